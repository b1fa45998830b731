// Running the test Workers of the Durable Object tests in workerd: bundling, miniflare's options, calling them.
import { builtinModules } from "node:module";
import { join } from "node:path";
import type { Miniflare, MiniflareOptions } from "miniflare";
import { build, type Plugin, type Rolldown } from "vite";

export const ROOT = join(import.meta.dirname, "../../..");

const forbidNode: Plugin = {
  name: "test:no-node",
  enforce: "pre",
  resolveId(id, importer) {
    if (id.startsWith("node:") || builtinModules.includes(id)) this.error(`Node built-in "${id}" imported by ${importer}: Workers run without Node APIs`);
  },
};

/** One ES module: workerd cannot resolve the bare imports (valibot) of unbundled sources. */
export async function bundle(entry: string, alias: Record<string, string> = {}): Promise<string> {
  const output = await build({
    configFile: false,
    root: ROOT,
    logLevel: "warn",
    publicDir: false,
    plugins: [forbidNode],
    resolve: { conditions: ["workerd", "worker", "browser"], alias },
    build: {
      write: false,
      target: "es2022",
      minify: false,
      rollupOptions: { external: ["cloudflare:workers"] },
      lib: { entry: join(ROOT, entry), formats: ["es"], fileName: "worker" },
    },
  });
  const result = (Array.isArray(output) ? output[0] : output) as Rolldown.RolldownOutput;
  const chunk = result.output.find((o): o is Rolldown.OutputChunk => o.type === "chunk" && o.isEntry);
  if (!chunk) throw new Error(`no bundle for ${entry}`);
  return chunk.code;
}

export interface WorkerSetup {
  className?: string;
  binding?: string;
  /** Plain-text bindings (env vars). */
  bindings?: Record<string, string>;
}

/** A Worker with one SQLite-backed Durable Object class, its data kept in `persist`. */
export const options = (code: string, persist: string, { className = "TestConversations", binding = "STORE", bindings = {} }: WorkerSetup = {}): MiniflareOptions => ({
  modules: [{ type: "ESModule", path: join(ROOT, "worker.js"), contents: code }],
  // The Worker on a socket of its own, as a client meets it: miniflare's entry in front would read a streamed
  // response whole, and a client that disconnects would not reach the Worker.
  unsafeDirectSockets: [{ port: 0 }],
  compatibilityDate: "2026-04-01", // not after the workerd build (miniflare 4.20260426.0); no compatibility flags: no nodejs_compat
  durableObjects: { [binding]: { className, useSQLite: true } },
  durableObjectsPersist: persist,
  bindings,
});

export async function json(mf: Miniflare, path: string, init?: RequestInit): Promise<any> {
  const res = await mf.dispatchFetch(`http://store.test${path}`, init as never);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the Worker answered ${res.status}: ${text.slice(0, 2000)}`);
  }
}

/** A streamed text response, line by line; `drop()` closes the connection as a client that goes away does. */
export async function lines(url: URL): Promise<{ next(): Promise<string>; drop(): void }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next() {
      while (!buffer.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended; it said ${JSON.stringify(buffer)}`);
        buffer += value;
      }
      const at = buffer.indexOf("\n");
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      return line;
    },
    drop: () => controller.abort(),
  };
}
