// The packed package in real Chromium (Debian's, driven by playwright-core). A local server serves a page
// whose import map points the bare specifiers at the installed tarball's files, and, on the same origin, the
// shared DeepInfra-compatible upstream. The behaviours run in the page; each is one test here.
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize, relative } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BehaviourResult, behaviours } from "../shared/behaviours.js";
import { serveWeb, type WebServer } from "../shared/node-server.ts";
import { preparePackage, resolveExport } from "../shared/pack.mjs";
import { registerBehaviours, remoteError } from "../shared/register.ts";
import { runtimeAvailable } from "../shared/runtime-available.ts";
import { createUpstream } from "../shared/upstream.js";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// RUNTIMES.md: flags that keep Debian's Chromium quiet and offline in a container.
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const playwright = await import("playwright-core").catch(() => undefined);

const problem = !existsSync(executablePath)
  ? `no browser at ${executablePath}`
  : playwright === undefined
    ? "playwright-core is not installed"
    : undefined;
const install =
  "apt-get install -y --no-install-recommends chromium (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary; and npm ci for playwright-core. Playwright's own browser download (npx playwright install) is not needed";

const HERE = import.meta.dirname;
const SHARED = join(HERE, "../shared");
const TYPES: Record<string, string> = { ".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html", ".json": "application/json" };

function file(path: string): Response {
  if (!existsSync(path)) return new Response("not found", { status: 404 });
  return new Response(readFileSync(path), { headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream" } });
}

/** `/pkg/...` → a file under `root`, refusing anything that normalises outside it. */
function under(root: string, rest: string): Response {
  const path = normalize(join(root, decodeURIComponent(rest)));
  return relative(root, path).startsWith("..") ? new Response("forbidden", { status: 403 }) : file(path);
}

if (runtimeAvailable("Chromium", problem, install)) {
  describe("Chromium: the packed package in a page", () => {
    let server: WebServer;
    let browser: Browser;
    let page: Page;
    let valibotURL: string;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      const pkg = await preparePackage();
      const modules = join(pkg.consumer, "node_modules");
      const url = (path: string) => `/pkg/${relative(modules, path)}`;
      // The import map a browser user would write, derived from the packed package.json `exports` and the
      // package's dependencies, resolved with browser conditions.
      const conditions = ["browser", "import", "module"];
      const imports: Record<string, string> = {};
      for (const key of Object.keys(pkg.manifest.exports)) {
        if (key.endsWith(".json")) continue;
        imports[key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`] = url(resolveExport(pkg.packageDir, key, conditions));
      }
      imports[`${pkg.name}-copy`] = url(resolveExport(pkg.copyDir, ".", conditions));
      for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) imports[dep] = url(resolveExport(join(modules, dep), ".", conditions));
      valibotURL = imports.valibot!;
      const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>edgechat in Chromium</title>
<script type="importmap">${JSON.stringify({ imports }, null, 2)}</script>
<script type="module" src="/page.js"></script>`;

      const upstream = createUpstream();
      server = await serveWeb((request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/") return new Response(html, { headers: { "content-type": "text/html" } });
        if (pathname === "/page.js") return file(join(HERE, "page.js"));
        if (pathname.startsWith("/pkg/")) return under(modules, pathname.slice("/pkg/".length));
        if (pathname.startsWith("/shared/") && pathname.endsWith(".js")) return under(SHARED, pathname.slice("/shared/".length));
        return upstream.handle(request);
      });

      browser = await playwright!.chromium.launch({ executablePath, headless: true, args: ARGS });
      page = await browser.newPage();
      page.on("pageerror", (error) => pageErrors.push(String(error)));
      page.on("console", (message) => {
        // The error statuses and the dropped connection are on purpose; anything else (an unhandled rejection) is not.
        if (message.type() === "error" && !message.text().startsWith("Failed to load resource:")) pageErrors.push(message.text());
      });
      await page.goto(`${server.origin}/`);
      await page.waitForFunction(() => "__ready" in window, undefined, { timeout: 10_000 }).catch((error: unknown) => {
        throw new Error(`the page did not load the package: ${pageErrors.join("\n") || String(error)}`);
      });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it("loads the packed files through the import map, with no Node globals in the page", async () => {
      const info = await page.evaluate(() => {
        const e = (window as unknown as { edgechat: { globals: unknown; resolved: unknown; names: string[] } }).edgechat;
        return { globals: e.globals, resolved: e.resolved, names: e.names };
      });
      expect(info.globals).toEqual({ process: "undefined", Buffer: "undefined", require: "undefined", global: "undefined" });
      expect(info.resolved).toEqual({
        edgechat: `${server.origin}/pkg/edgechat/dist/index.js`,
        sse: `${server.origin}/pkg/edgechat/dist/sse/index.js`,
        tools: `${server.origin}/pkg/edgechat/dist/tools/index.js`,
        structured: `${server.origin}/pkg/edgechat/dist/structured/index.js`,
        valibot: `${server.origin}${valibotURL}`,
      });
      expect(info.names).toEqual(behaviours.map((b) => b.name));
      expect(server.paths).toContain("/pkg/edgechat/dist/index.js");
      expect(server.paths).toContain("/pkg/edgechat/dist/tools/index.js");
      expect(server.paths).toContain("/pkg/edgechat/dist/structured/index.js");
      expect(valibotURL).toMatch(/^\/pkg\/valibot\//); // the package's dependency, as installed beside it
      expect(server.paths).toContain(valibotURL);
      expect(server.paths.filter((p) => p.includes("/src/"))).toEqual([]);
    });

    registerBehaviours("chromium", async (behaviour) => {
      const result = await page.evaluate(
        (name) => (window as unknown as { edgechat: { run(n: string): Promise<BehaviourResult> } }).edgechat.run(name),
        behaviour.name,
      );
      if (!result.ok) throw remoteError("Chromium", result.error);
    });

    it("round-trips a conversation with an image through real IndexedDB with the packed edgechat/idb", async () => {
      const result = await page.evaluate(() => (window as unknown as { edgechat: { idbRoundTrip(): Promise<unknown> } }).edgechat.idbRoundTrip());
      expect(result).toEqual({ native: true, title: "round trip", count: 2, cost: 0.5, text: "héllo 🦙", imageEqual: true, reply: "hi", exportedImage: true });
      expect(server.paths).toContain("/pkg/edgechat/dist/store/idb/index.js");
      expect(server.paths.some((p) => p.startsWith("/pkg/idb/"))).toBe(true);
    });

    it("logged no page errors or unhandled rejections", () => {
      expect(pageErrors).toEqual([]);
    });
  });
}
