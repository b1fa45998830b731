#!/usr/bin/env node
// `npm run demo`: the demo Worker (DeepInfra when DEEPINFRA_TOKEN is set, else the simulated model) and the
// page's vite dev server, which proxies /v1/openai to the Worker so the page and its API share one origin.
//   DEMO_PORT (default 5173) and WORKER_PORT (default 8787) pick the ports; a taken one falls back to a free one.
// Tests import startDemo() to run exactly what a user runs.
import { createServer as createNetServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { envFromProcess, startWorker } from "./worker/dev.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const HOST = "127.0.0.1";
/** Where the Deno chat looks for the Worker when given no --base-url (DEMO_WORKER in deno/options.ts). */
export const DEFAULT_API = "http://127.0.0.1:8787/v1/openai";

/**
 * The command that starts the Deno terminal chat against the Worker at `baseURL`. For the default port it is the
 * command demo/README.md shows, word for word; on another port it names that port and passes --base-url.
 */
export function denoCommand(baseURL) {
  const { host } = new URL(baseURL);
  const base = baseURL === DEFAULT_API ? "" : ` --base-url ${baseURL}`;
  return `npx deno run --allow-net=${host} --allow-read=.edgechat --allow-write=.edgechat --allow-env demo/deno/chat.ts${base}`;
}

/** `preferred` if it is free on `host` (0: any free port), else a free one. */
export async function freePort(preferred, host = HOST) {
  const tryListen = (port) =>
    new Promise((resolve) => {
      const server = createNetServer();
      server.once("error", () => resolve(undefined));
      server.listen(port, host, () => {
        const { port: bound } = server.address();
        server.close(() => resolve(bound));
      });
    });
  return (preferred ? await tryListen(preferred) : undefined) ?? (await tryListen(0));
}

/**
 * Start the Worker and the page. Returns the page URL, the Worker, and `close()` which stops both.
 * `env` is passed to the Worker (default: DEEPINFRA_TOKEN and the Worker's other vars from this process).
 */
export async function startDemo({ port, workerPort, env = envFromProcess(), logLevel = "info", watch = true } = {}) {
  const pagePort = await freePort(port ?? numberFrom(process.env.DEMO_PORT, 5173));
  // The browser sends Origin on the page's POSTs; the proxy passes it on, so the Worker must allow the page.
  const origins = [`http://${HOST}:${pagePort}`, `http://localhost:${pagePort}`];
  const allowed = [env.ALLOWED_ORIGINS, ...origins].filter(Boolean).join(",");
  const worker = await startWorker({ port: await freePort(workerPort ?? numberFrom(process.env.WORKER_PORT, 8787)), host: HOST, env: { ...env, ALLOWED_ORIGINS: allowed } });
  let server;
  try {
    const { createServer } = await import("vite");
    server = await createServer({
      configFile: join(here, "vite.config.ts"),
      logLevel,
      clearScreen: false,
      server: {
        host: HOST,
        port: pagePort,
        strictPort: true,
        proxy: { "/v1/openai": { target: worker.url, changeOrigin: true } },
        ...(!watch && { hmr: false, watch: null }),
      },
    });
    await server.listen();
  } catch (error) {
    await worker.dispose();
    throw error;
  }
  return {
    url: `http://${HOST}:${pagePort}/`,
    worker,
    mode: worker.mode,
    vite: server,
    async close() {
      await server.close();
      await worker.dispose();
    },
  };
}

function numberFrom(value, fallback) {
  const n = Number(value);
  return value && Number.isInteger(n) && n >= 0 ? n : fallback;
}

async function main() {
  const env = envFromProcess();
  const demo = await startDemo({ env });
  const simulated = demo.mode === "simulated";
  const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[22m` : s);
  console.log(`
  ${bold("edgechat demo")}

  Open      ${bold(demo.url)}
  Model     ${simulated ? "simulated (no DEEPINFRA_TOKEN: replies are computed, not generated; type /help in the chat)" : "DeepInfra (DEEPINFRA_TOKEN is set; the Worker holds it, the page never sees it)"}
  API       ${demo.worker.baseURL}  (the Worker; the page reaches it through ${demo.url}v1/openai)
  Deno CLI  ${denoCommand(demo.worker.baseURL)}

  Ctrl-C to stop.
`);
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1); // a second Ctrl-C: don't wait
    stopping = true;
    console.log("\n  Stopping…");
    await demo.close().catch((error) => console.error(error));
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
