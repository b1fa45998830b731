// Pages for the real-Chromium tests that run src/ in a page: the page's entry bundled by vite (src/, idb and valibot
// in one ES module, served as /page.js), the HTML that loads it, and a typed call into the API the page puts on
// `window`. Launching Chromium is test/demo/page-helpers/browser.ts (Debian's chromium through playwright-core).
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { build, type Rolldown } from "vite";
import type { Handler } from "./upstream.ts";

const ROOT = join(import.meta.dirname, "../..");

/** Bundle a page entry (a .ts file under test/) into one ES module's code. */
export async function bundlePage(entry: string): Promise<string> {
  const built = await build({
    configFile: false,
    root: ROOT,
    logLevel: "warn",
    build: {
      write: false,
      minify: false,
      target: "es2022",
      lib: { entry, formats: ["es"], fileName: "page" },
      // One file, dynamic imports included (Conversation.fromJSON and the IndexedDB store's import load their validator
      // lazily): the test serves only /page.js.
      rolldownOptions: { output: { codeSplitting: false } },
    },
  });
  const output = [built].flat()[0] as Rolldown.RolldownOutput;
  const chunk = output.output.find((o) => o.type === "chunk" && o.isEntry);
  const code = chunk?.type === "chunk" ? chunk.code : "";
  if (code.length < 1000) throw new Error(`vite built no page bundle from ${entry}`);
  return code;
}

/** A page that loads /page.js (a favicon given, so no 404 is logged). */
export const pageHTML = (title: string) =>
  `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title><script type="module" src="/page.js"></script>`;

/** A test upstream's routes for a page under test: the page (/) and its bundle (/page.js); any other path to `next`. */
export function pageRoutes(title: string, script: string, next: Handler): Handler {
  const html = pageHTML(title);
  return (req, res) => {
    if (req.path === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(html);
    if (req.path === "/page.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    return next(req, res);
  };
}

/**
 * A new tab on `url`, once the page's script has set `window.__ready`; its uncaught errors and console errors (but a
 * failed load, which a test may cause on purpose) go to `errors`. `init` runs in the page before its own scripts.
 */
export async function openTestPage(context: BrowserContext, url: string, errors: string[], init?: () => void): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text());
  });
  if (init) await page.addInitScript(init);
  await page.goto(url);
  await page.waitForFunction(() => "__ready" in window, undefined, { timeout: 15_000 });
  return page;
}

type Args<F> = F extends (...a: infer A) => unknown ? A : [];
type Result<F> = F extends (...a: never[]) => infer R ? Awaited<R> : F;
export type PageCall<Api> = <K extends keyof Api & string>(page: Page, name: K, ...args: Args<Api[K]>) => Promise<Result<Api[K]>>;

/**
 * `call(page, name, ...args)` runs `window[global][name](...args)` in the page (code that lives in the page's
 * bundle, never in evaluate: vitest rewrites `import()` in test code) and resolves with its (awaited) result;
 * a member that is not a function is read.
 */
export function pageCaller<Api>(global: string): PageCall<Api> {
  return (page, name, ...args) =>
    page.evaluate(
      ([global, name, args]) => {
        const api = (window as unknown as Record<string, Record<string, unknown>>)[global]!;
        const member = api[name];
        return typeof member === "function" ? (member as (...a: unknown[]) => unknown)(...args) : member;
      },
      [global, name, args as unknown[]] as const,
    ) as never;
}
