// The relay's test Worker (test/relay/worker.ts) for the benchmark: bundled against the BUILT relay (dist/relay, or
// BENCH_DIST), run in workerd by miniflare beside a plain proxy route of the same Worker (POST /plain).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportTarget, ROOT } from "./edgechat.mjs";

export async function startRelayWorker(upstream) {
  const relay = exportTarget("./relay");
  if (!relay) throw new Error('package.json has no "./relay" export');
  const { build } = await import("vite");
  const output = await build({
    configFile: false,
    root: ROOT,
    logLevel: "warn",
    publicDir: false,
    // The Worker imports the relay from src/; here it gets the built files instead, as a user's Worker would.
    resolve: { alias: [{ find: /^.*\/src\/relay\/index\.ts$/, replacement: relay }] },
    build: { write: false, target: "es2022", minify: false, lib: { entry: join(ROOT, "test/relay/worker.ts"), formats: ["es"], fileName: "worker" } },
  });
  const code = (Array.isArray(output) ? output[0] : output).output.find((o) => o.type === "chunk" && o.isEntry).code;
  if (!code.includes("edgechat-relay")) throw new Error("the bundle has no relay");
  const { Miniflare } = await import("miniflare");
  const persist = mkdtempSync(join(tmpdir(), "edgechat-bench-relay-"));
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: join(ROOT, "worker.js"), contents: code }],
    // The Worker on a socket of its own, as a client meets it (miniflare's entry would read a stream whole).
    unsafeDirectSockets: [{ port: 0 }],
    compatibilityDate: "2026-04-01",
    durableObjects: { GENERATIONS: { className: "TestGenerations", useSQLite: true } },
    durableObjectsPersist: persist,
    bindings: { UPSTREAM: upstream, API_KEY: "bench-key" },
  });
  const url = await mf.unsafeGetDirectURL();
  return {
    url,
    async dispose() {
      await mf.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}
