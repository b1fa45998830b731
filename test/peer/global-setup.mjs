// vitest globalSetup for the peer suite: the llama-server binary (built once into the cache), the tiny model,
// one server for every case file, its details provided to the tests as `inject("peer")`, and its log kept in
// the cache (`server.log`) after the run.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureLlamaServer } from "./llama-build.mjs";
import { startLlamaServer } from "./server.mjs";
import { ensureTinyModel } from "./tiny-model.mjs";

export const CONTEXT_SIZE = 2048;

export default async function setup(project) {
  const llama = await ensureLlamaServer();
  const model = ensureTinyModel({ source: llama.source, dir: llama.dir });
  const threads = Number(process.env.EDGECHAT_PEER_THREADS) || 1;
  const server = await startLlamaServer({ binary: llama.server, model, contextSize: CONTEXT_SIZE, threads });
  project.provide("peer", { baseURL: server.baseURL, contextSize: CONTEXT_SIZE });
  return async () => {
    await server.stop();
    writeFileSync(join(llama.dir, "server.log"), server.log());
  };
}
