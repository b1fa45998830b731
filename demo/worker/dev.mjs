#!/usr/bin/env node
// Runs the demo's Worker locally in workerd (miniflare), with the vars and Durable Objects of wrangler.jsonc.
//   node demo/worker/dev.mjs [--port 8787]          DEEPINFRA_TOKEN=… for the real model, else the simulated one
// Other code (the demo launcher, tests) imports startWorker().
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The vars and settings wrangler.jsonc declares (comments and trailing commas removed). */
export function readWranglerConfig() {
  return JSON.parse(stripJsonc(readFileSync(join(here, "wrangler.jsonc"), "utf8")));
}

function stripJsonc(text) {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

let bundled;
/** The Worker as one ES module (workerd cannot resolve imports of a string script). Built once per process. */
export function bundleWorker() {
  bundled ??= (async () => {
    const { build } = await import("vite");
    const forbidNode = {
      name: "demo-worker:no-node",
      enforce: "pre",
      resolveId(id, importer) {
        if (id.startsWith("node:") || builtinModules.includes(id)) {
          this.error(`Node built-in "${id}" imported by ${importer}: the Worker runs without Node APIs`);
        }
      },
    };
    const output = await build({
      configFile: false,
      root: here,
      logLevel: "warn",
      plugins: [forbidNode],
      // edgechat's relay from source, under the name the package exports it by (tsconfig.json has the same path).
      resolve: { alias: { "edgechat/relay": join(here, "../../src/relay/index.ts") } },
      build: {
        write: false,
        target: "es2022",
        minify: false,
        lib: { entry: join(here, "index.ts"), formats: ["es"], fileName: "worker" },
      },
    });
    const chunk = (Array.isArray(output) ? output[0] : output).output.find((o) => o.type === "chunk" && o.isEntry);
    return chunk.code;
  })();
  return bundled;
}

/** The Worker's vars from the environment of this process (what `npm run demo` passes on). */
export function envFromProcess() {
  const names = [
    "DEEPINFRA_TOKEN",
    "UPSTREAM_URL",
    "ALLOWED_ORIGINS",
    "ALLOWED_MODELS",
    "MAX_TOKENS_CAP",
    "MAX_BODY_BYTES",
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_WINDOW_SECONDS",
    "SIMULATED_TOKENS_PER_SECOND",
  ];
  return Object.fromEntries(names.filter((n) => process.env[n]).map((n) => [n, process.env[n]]));
}

/**
 * Start the Worker on http://host:port (port 0 picks a free one). `env` overrides wrangler.jsonc's vars;
 * `DEEPINFRA_TOKEN` in it becomes the secret binding (nothing is read from process.env here: pass
 * envFromProcess() for that). Durable Objects keep their SQLite data in memory unless `persist` is a directory.
 */
export async function startWorker({ port = 8787, host = "127.0.0.1", env = {}, persist } = {}) {
  const { Miniflare } = await import("miniflare");
  const config = readWranglerConfig();
  const bindings = { ...config.vars };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) bindings[name] = String(value);
  if (!bindings.DEEPINFRA_TOKEN) delete bindings.DEEPINFRA_TOKEN;
  const sqlite = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  const durableObjects = Object.fromEntries(
    config.durable_objects.bindings.map((b) => [b.name, { className: b.class_name, useSQLite: sqlite.has(b.class_name) }]),
  );
  const mf = new Miniflare({
    name: config.name,
    modules: true,
    script: await bundleWorker(),
    compatibilityDate: config.compatibility_date,
    host,
    port,
    bindings,
    durableObjects,
    ...(persist ? { durableObjectsPersist: persist } : {}),
  });
  const ready = await mf.ready;
  const url = ready.origin;
  // As the Worker decides (proxy/config.ts): another UPSTREAM_URL than DeepInfra's, without a token, is a server of your own.
  const own = (bindings.UPSTREAM_URL ?? "").replace(/\/+$/, "") !== "https://api.deepinfra.com/v1/openai";
  const mode = bindings.DEEPINFRA_TOKEN ? "deepinfra" : own ? "server" : "simulated";
  return { url, baseURL: `${url}/v1/openai`, mode, miniflare: mf, dispose: () => mf.dispose() };
}

async function main() {
  const args = process.argv.slice(2);
  const portArg = args.indexOf("--port");
  const port = Number(portArg >= 0 ? args[portArg + 1] : (process.env.PORT ?? 8787));
  const env = envFromProcess();
  const worker = await startWorker({ port, env });
  const upstream = env.UPSTREAM_URL ?? readWranglerConfig().vars.UPSTREAM_URL;
  console.log(`edgechat demo worker: ${worker.baseURL}`);
  console.log(
    worker.mode === "deepinfra"
      ? `mode: deepinfra (DEEPINFRA_TOKEN is set; forwarding to ${upstream})`
      : worker.mode === "server"
        ? `mode: server (no DEEPINFRA_TOKEN; forwarding to ${upstream} without a key)`
        : "mode: simulated (no DEEPINFRA_TOKEN: a built-in simulator answers; start a message with /help)",
  );
  const stop = async () => {
    await worker.dispose();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
