#!/usr/bin/env node
// `npm run test:peer`: the interop suite against llama.cpp's real server. Builds llama-server once into the
// cache (15–20 minutes on two cores; later runs reuse it), writes the tiny model, then runs test/peer/*.peer.ts
// with their own vitest config (the server is started and stopped by its globalSetup). Extra arguments go to
// vitest (a file filter, `-t name`). Environment: EDGECHAT_PEER_CACHE (default ~/.cache/edgechat-peer),
// EDGECHAT_PEER_JOBS (build jobs, default the number of cores).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureLlamaServer } from "./llama-build.mjs";
import { ensureTinyModel } from "./tiny-model.mjs";

const root = join(import.meta.dirname, "../..");
const seconds = (since) => ((performance.now() - since) / 1000).toFixed(1);
const minutes = (since) => {
  const s = Math.round((performance.now() - since) / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

let llama;
const buildStart = performance.now();
try {
  llama = await ensureLlamaServer();
} catch (error) {
  console.error(`\npeer: no llama-server: ${error.message}`);
  process.exit(2);
}
const buildTime = minutes(buildStart);
console.log(llama.built ? `peer: llama-server built in ${buildTime}: ${llama.server}` : `peer: llama-server from the cache: ${llama.server}`);

const modelStart = performance.now();
const model = ensureTinyModel({ source: llama.source, dir: llama.dir });
console.log(`peer: model ${model} ready in ${seconds(modelStart)} s`);

const runStart = performance.now();
const vitest = spawnSync(join(root, "node_modules", ".bin", "vitest"), ["run", "--config", "test/peer/vitest.config.ts", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
console.log(`\npeer: ${llama.built ? `build ${buildTime}, ` : ""}run ${seconds(runStart)} s (server log: ${join(llama.dir, "server.log")})`);
process.exit(vitest.status ?? 1);
