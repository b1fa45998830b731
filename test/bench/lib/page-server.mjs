// The server a bench page runs on: its HTML (an import map for the package's dependencies, then the page's own
// module), files from a few mounted directories, and optionally more routes — on 127.0.0.1, cross-origin isolated
// so that performance.now() ticks at 5 µs instead of 100 µs.
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./edgechat.mjs";

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
