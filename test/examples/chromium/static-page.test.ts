// examples/static/index.html as a user runs it: no bundler, no import map, no vite. A plain node:http static server on
// 127.0.0.1 serves the page from examples/static/ and the browser build from the packed package's dist/browser/
// (the paths a CDN serves), so the page's `import … from "../../dist/browser/edgechat.js"` resolves as it does in the
// repository. The page takes ?baseURL= of a DeepInfra-style SSE upstream on another origin (a proxy, with CORS).
// Real Chromium (Debian's, through playwright-core), real IndexedDB, Web Locks and BroadcastChannel. Last, the README's
// <script type="module"> snippet runs as written, its jsDelivr URL answered (intercepted) with the packed file.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize, relative } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeInChromium, launchChromium } from "../../demo/page-helpers/browser.ts";
import { makePNG } from "../../helpers/images.ts";
import { gate, type RecordedRequest, replyEvents, startSSE, startUpstream, type Upstream, usage } from "../../helpers/upstream.ts";
import { preparePackage, ROOT } from "../../runtimes/shared/pack.mjs";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

interface StaticServer {
  origin: string;
  /** Every path requested, with its status. */
  served: { path: string; status: number }[];
  close(): Promise<void>;
}

/** GET files under each URL prefix's directory; a path ending in / is its index.html. Nothing else. */
async function serveStatic(roots: Record<string, string>): Promise<StaticServer> {
  const served: StaticServer["served"] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    const file = prefix === undefined ? undefined : normalize(join(roots[prefix]!, decodeURIComponent(path.slice(prefix.length)) || "index.html"));
    const ok = req.method === "GET" && file !== undefined && !relative(roots[prefix!]!, file).startsWith("..") && existsSync(file);
    served.push({ path: req.url ?? "", status: ok ? 200 : 404 });
    if (!ok) return void res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The proxy lets the page's origin call it, as the demo's Worker does for its ALLOWED_ORIGINS. */
const CORS = { "access-control-allow-origin": "*" };

type Script = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/** What the page shows: one entry per <li>. */
interface Shown {
  role: string;
  status: string;
  text: string;
  images: number;
}

describeInChromium("examples/static/index.html: one HTML file, no build, from a plain static server", () => {
  let site: StaticServer;
  let upstream: Upstream;
  let browser: Browser;
  let context: BrowserContext;
  let tab: Page;
  let url: string;
  let pkg: Awaited<ReturnType<typeof preparePackage>>;
  const scripts: Script[] = [];
  const requested: string[] = [];
  const pageErrors: string[] = [];

  /** The page's POSTs to the upstream (preflights left out). */
  const completions = () => upstream.requests.filter((r) => r.method === "POST");
  const lastUser = (r: RecordedRequest) => (r.body.messages as { role: string; content: unknown }[]).at(-1);

  /** A reply of `parts`, sent at once. */
  const reply =
    (...parts: string[]): Script =>
    (_req, res) => {
      startSSE(res, CORS);
      for (const event of replyEvents(parts, usage(20, parts.length))) res.write(event);
      res.end();
    };

  /** A reply that sends `first`, then holds until `release()` (or until the page closes the connection). */
  function held(first: string[], rest: string[]): { script: Script; release(): void } {
    const { open, opened } = gate();
    return {
      release: open,
      script: async (req, res) => {
        startSSE(res, CORS);
        const events = replyEvents([...first, ...rest], usage(20, first.length + rest.length));
        for (const event of events.slice(0, 1 + first.length)) res.write(event);
        await Promise.race([opened, req.closed]);
        if (res.destroyed || res.writableEnded) return;
        for (const event of events.slice(1 + first.length)) res.write(event);
        res.end();
      },
    };
  }

  async function open(): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(url);
    await page.waitForSelector("#composer button[name=send]");
    return page;
  }

  const shown = (page: Page): Promise<Shown[]> =>
    page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>("#messages li")].map((li) => ({
        role: li.className,
        status: li.dataset.status ?? "",
        text: li.textContent ?? "",
        images: li.querySelectorAll("img").length,
      })),
    );

  /** Until the last message shown is `text` with `status`. */
  const until = (page: Page, text: string, status: string) =>
    page.waitForFunction(
      ([text, status]) => {
        const li = document.querySelector<HTMLElement>("#messages li:last-child");
        return li?.textContent === text && li.dataset.status === status;
      },
      [text, status] as const,
      { timeout: 10_000 },
    );

  async function send(page: Page, text: string): Promise<void> {
    await page.fill("textarea[name=text]", text);
    await page.press("textarea[name=text]", "Enter");
  }

  beforeAll(async () => {
    pkg = await preparePackage();
    site = await serveStatic({
      "/examples/static/": join(ROOT, "examples/static"),
      "/dist/browser/": join(pkg.packageDir, "dist/browser"),
    });
    upstream = await startUpstream();
    upstream.handle(async (req, res) => {
      if (req.method === "OPTIONS") {
        const headers = String(req.headers["access-control-request-headers"] ?? "content-type");
        return void res.writeHead(204, { ...CORS, "access-control-allow-methods": "POST", "access-control-allow-headers": headers }).end();
      }
      if (req.method !== "POST" || req.path !== "/v1/openai/chat/completions") return void res.writeHead(404, CORS).end();
      await (scripts.shift() ?? reply("unscripted"))(req, res);
    });
    url = `${site.origin}/examples/static/?baseURL=${encodeURIComponent(upstream.baseURL)}`;
    browser = await launchChromium();
    context = await browser.newContext();
    context.on("request", (request) => requested.push(request.url()));
    tab = await open();
  });

  afterAll(async () => {
    await browser?.close();
    await upstream?.close();
    await site?.close();
  });

  it("streams a reply into the page as it arrives (text, never HTML), then completes it", async () => {
    const { script, release } = held(["<b>Hel", "lo</b>"], [" there"]);
    scripts.push(script);
    await send(tab, "Hi");
    // Lockstep: the upstream holds the rest until the page has shown the first part.
    await until(tab, "<b>Hello</b>", "streaming");
    expect(await tab.isVisible("button[name=stop]")).toBe(true);
    release();
    await until(tab, "<b>Hello</b> there", "complete");
    expect(await shown(tab)).toEqual([
      { role: "user", status: "", text: "Hi", images: 0 },
      { role: "assistant", status: "complete", text: "<b>Hello</b> there", images: 0 },
    ]);
    expect(await tab.evaluate(() => document.querySelectorAll("#messages b").length), "model output is text, not markup").toBe(0);
    await tab.waitForSelector("button[name=stop]", { state: "hidden" }); // when the turn is over: just after the reply
    expect(completions()).toHaveLength(1);
    expect(completions()[0]!.body).toMatchObject({ model: "meta-llama/Llama-3.2-90B-Vision-Instruct", stream: true });
    expect(lastUser(completions()[0]!)).toEqual({ role: "user", content: "Hi" });
  });

  it("attaches an image: shown in the page, and sent as a data: URL with the text", async () => {
    const png = makePNG(64, 48, [20, 160, 60]);
    scripts.push(reply("A green ", "rectangle."));
    await tab.setInputFiles("input[name=image]", { name: "green.png", mimeType: "image/png", buffer: Buffer.from(png) });
    await tab.fill("textarea[name=text]", "What is this?");
    await tab.click("button[name=send]");
    await until(tab, "A green rectangle.", "complete");

    const content = lastUser(completions().at(-1)!)?.content as { type: string; text?: string; image_url?: { url: string } }[];
    expect(content.map((p) => p.type)).toEqual(["text", "image_url"]);
    expect(content[0]!.text).toBe("What is this?");
    const dataURL = content[1]!.image_url!.url;
    expect(dataURL.startsWith("data:image/png;base64,")).toBe(true);
    // Smaller than the model's canvas, so prepareImage sent the bytes as they were.
    expect(Buffer.from(dataURL.slice(dataURL.indexOf(",") + 1), "base64").equals(Buffer.from(png))).toBe(true);
    // The request carried the earlier turn too.
    expect((completions().at(-1)!.body.messages as unknown[]).length).toBe(3);

    await tab.waitForFunction(() => [...document.querySelectorAll("#messages img")].some((img) => (img as HTMLImageElement).naturalWidth === 64));
    expect((await shown(tab)).at(-2)).toEqual({ role: "user", status: "", text: "What is this?", images: 1 });
    expect(await tab.evaluate(() => (document.querySelector("input[name=image]") as HTMLInputElement).files?.length), "the form is cleared").toBe(0);
  });

  it("Stop ends the reply where it is, keeps its text, and cancels the request", async () => {
    const { script } = held(["Once upon"], [" a time"]);
    scripts.push(script);
    await send(tab, "Tell me a story");
    await until(tab, "Once upon", "streaming");
    await tab.click("button[name=stop]");
    await until(tab, "Once upon", "interrupted");
    await completions().at(-1)!.closed; // the connection is closed: the upstream stops generating
    await tab.waitForSelector("button[name=stop]", { state: "hidden" });
    expect(await tab.textContent("#note"), "a stop is not an error").toBe("");
  });

  it("after a reload the conversation is still there, image included (IndexedDB)", async () => {
    const before = await shown(tab);
    expect(before).toHaveLength(6);
    const posts = completions().length;
    await tab.reload();
    await tab.waitForFunction((n) => document.querySelectorAll("#messages li").length === n, before.length);
    expect(await shown(tab)).toEqual(before);
    await tab.waitForFunction(() => (document.querySelector("#messages img") as HTMLImageElement | null)?.naturalWidth === 64);
    expect(completions().length, "reading it back sends nothing").toBe(posts);
  });

  it("a second tab shows the conversation, and follows the first tab's new turn as it streams, without a reload", async () => {
    const second = await open();
    await second.waitForFunction((n) => document.querySelectorAll("#messages li").length === n, 6);
    expect(await shown(second)).toEqual(await shown(tab));
    await second.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

    const { script, release } = held(["From the first"], [" tab."]);
    scripts.push(script);
    await send(tab, "Hello from tab one");
    await until(second, "From the first", "streaming");
    release();
    await until(second, "From the first tab.", "complete");
    expect((await shown(second)).slice(-2)).toEqual([
      { role: "user", status: "", text: "Hello from tab one", images: 0 },
      { role: "assistant", status: "complete", text: "From the first tab.", images: 0 },
    ]);
    expect(await second.evaluate(() => (window as unknown as { marker?: number }).marker), "the same document: not reloaded").toBe(1);
    await second.close();
  });

  it("a message sent while another tab's reply streams waits for it, then goes out with that turn in its history", async () => {
    const second = await open();
    const first = held(["Still"], [" going."]);
    scripts.push(first.script, reply("After you."));
    await send(tab, "A long one");
    await until(second, "Still", "streaming");
    await send(second, "Me too");
    await second.waitForFunction(() => document.querySelector("#note")?.textContent === "Waiting for the other tab's reply…");
    const posts = completions().length;
    first.release();
    await until(second, "After you.", "complete");
    await until(tab, "After you.", "complete");
    expect(completions().length).toBe(posts + 1);
    const history = (completions().at(-1)!.body.messages as { role: string; content: unknown }[]).slice(-3);
    expect(history).toEqual([
      { role: "user", content: "A long one" },
      { role: "assistant", content: "Still going." },
      { role: "user", content: "Me too" },
    ]);
    expect(await second.textContent("#note")).toBe("");
    expect(await shown(second)).toEqual(await shown(tab));
    await second.close();
  });

  it("loaded only the page and the browser build from the static server, called only the upstream, and logged no errors", () => {
    // A blob: URL (an image shown from IndexedDB) has the page's origin.
    const elsewhere = requested.filter((u) => ![site.origin, upstream.origin].includes(new URL(u).origin));
    expect(elsewhere, "no CDN, nothing else").toEqual([]);
    expect(requested.filter((u) => u.startsWith(upstream.origin)).length).toBeGreaterThan(0);
    expect(new Set(site.served.map(({ path, status }) => `${status} ${path.split("?")[0]}`))).toEqual(
      new Set(["200 /examples/static/", "200 /dist/browser/edgechat.js"]),
    );
    expect(pageErrors).toEqual([]);
  });

  it("the README's <script type=\"module\"> snippet runs as written, its jsDelivr URL answered with the packed file", async () => {
    const use = readFileSync(join(ROOT, "README.md"), "utf8").split("\n## Use\n")[1] ?? "";
    const snippet = /```html\n([\s\S]*?)```/.exec(use)?.[1] ?? "";
    const cdn = /from "(https:\/\/cdn\.jsdelivr\.net\/npm\/edgechat@([\d.]+)\/(dist\/browser\/edgechat\.js))"/.exec(snippet);
    expect(cdn, `the first snippet of "## Use" imports the browser build from jsDelivr:\n${snippet}`).not.toBeNull();
    const [, cdnURL, range, file] = cdn!;
    expect(`${pkg.manifest.version}.`.startsWith(`${range}.`), `edgechat@${range} covers ${pkg.manifest.version}`).toBe(true);

    const isolated = await browser.newContext();
    const errors: string[] = [];
    const sent: unknown[] = [];
    try {
      await isolated.route(cdnURL!, (route) => route.fulfill({ path: join(pkg.packageDir, file!), contentType: "text/javascript" }));
      await isolated.route(`${site.origin}/v1/openai/chat/completions`, (route) => {
        sent.push(route.request().postDataJSON());
        return route.fulfill({ contentType: "text/event-stream", headers: CORS, body: replyEvents(["A llama: <i>woolly</i>", ", calm."]).join("") });
      });
      const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>README</title>\n${snippet}`;
      await isolated.route(`${site.origin}/readme/`, (route) => route.fulfill({ contentType: "text/html", body: html }));
      const page = await isolated.newPage();
      page.on("pageerror", (error) => errors.push(String(error)));
      await page.goto(`${site.origin}/readme/`);
      await page.waitForFunction(() => document.body.textContent?.endsWith("A llama: <i>woolly</i>, calm."), undefined, { timeout: 10_000 });
      expect(await page.evaluate(() => document.querySelectorAll("i").length), "the reply is text").toBe(0);
      expect(sent).toMatchObject([{ model: "meta-llama/Llama-3.2-90B-Vision-Instruct", messages: [{ role: "user", content: "Describe a llama in one line." }] }]);
      expect(errors).toEqual([]);
    } finally {
      await isolated.close();
    }
  });
});
