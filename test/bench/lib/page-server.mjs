// The server a bench page runs on: its HTML (an import map for the package's dependencies, then the page's own
// module), files from a few mounted directories, and optionally more routes — on 127.0.0.1, cross-origin isolated
// so that performance.now() ticks at 5 µs instead of 100 µs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./edgechat.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// RUNTIMES.md: flags that keep Debian's Chromium quiet and offline in a container.
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html" };

/**
 * `mounts`: [url prefix, directory] pairs (node_modules is always mounted); `page`: the module the HTML loads;
 * `route(path, req, res, headers)`: answers other paths first, returning true when it did.
 */
export async function startPageServer({ title, mounts, page, route = () => false }) {
  const all = [...mounts, ["/node_modules/", join(ROOT, "node_modules")]];
  // The package's dependencies, resolved as Node resolves them for an import (their ESM builds).
  const imports = Object.fromEntries(
    ["idb", "valibot"].map((dep) => [dep, `/node_modules/${relative(join(ROOT, "node_modules"), fileURLToPath(import.meta.resolve(dep))).split("\\").join("/")}`]),
  );
  const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module" src="${page}"></script>`;
  const server = createServer(async (req, res) => {
    const headers = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp", "cache-control": "no-store" };
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (await route(path, req, res, headers)) return;
    if (path === "/") return res.writeHead(200, { ...headers, "content-type": "text/html" }).end(html);
    for (const [prefix, dir] of all) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (relative(dir, file).startsWith("..") || !existsSync(file)) break;
      return res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
    }
    res.writeHead(404, headers).end("not found");
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/**
 * Run `run(page)` on the bench page at `origin` once it says `window.benchReady`, in headless Chromium on a fresh
 * on-disk profile (IndexedDB on disk, as for a user; an incognito context keeps it in memory). A page error fails it.
 */
export async function inBenchPage(origin, run) {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install -y --no-install-recommends chromium, or set CHROMIUM_PATH)`);
  const playwright = await import("playwright-core").catch(() => undefined);
  if (!playwright) throw new Error("playwright-core is not installed");
  const profile = mkdtempSync(join(tmpdir(), "edgechat-bench-chromium-"));
  let context;
  try {
    context = await playwright.chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.benchReady === true, undefined, { timeout: 15_000 });
    const result = await run(page);
    if (errors.length > 0) throw new Error(errors.join("; "));
    return result;
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}
