// The demo as `npm run demo` runs it (demo/serve.mjs: the page, its Worker and the simulated model) in real
// Chromium: what every demo page test starts with.
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { type RunningDemo, startDemo } from "../../../demo/serve.mjs";
import type { ChatCompletionCreateParamsStreaming } from "../../../src/client/types.ts";
import { createClient } from "../../../src/index.ts";
import { type SeenRequest, startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.ts";
import { launchChromium } from "./browser.ts";
import { ready, TIMEOUT } from "./demo-page.ts";

export interface DemoInChromium {
  demo: RunningDemo;
  browser: Browser;
  context: BrowserContext;
  /** The TCP proxy in front of the demo server, when asked for: it sees every request on the wire. */
  proxy?: TcpProxy | undefined;
  /** Where the page is served: the proxy's address when there is one, else the demo's. */
  url: string;
  /** Every uncaught error of every page of the context. */
  pageErrors: string[];
  /** A new tab on the page (or on `url`), ready to type in. */
  open(url?: string): Promise<Page>;
  /** The page on a phone-sized screen (390 × 844), in a context of its own: close it with `page.context().close()`. */
  phone(): Promise<Page>;
  close(): Promise<void>;
}

export interface DemoInChromiumOptions {
  /** How fast the simulator writes. Fast by default, so ordinary replies take milliseconds. */
  tokensPerSecond?: number;
  /** Put a TCP proxy in front of the demo server (the page's origin is then the proxy's: the Worker accepts it). */
  proxy?: boolean;
  /** More options for the browser context (a phone's viewport, a time zone…). */
  context?: BrowserContextOptions;
}

export async function startDemoInChromium(options: DemoInChromiumOptions = {}): Promise<DemoInChromium> {
  const proxy = options.proxy ? await startTcpProxy() : undefined;
  const env = { SIMULATED_TOKENS_PER_SECOND: options.tokensPerSecond ?? 2000, RATE_LIMIT_REQUESTS: 10_000, ...(proxy && { ALLOWED_ORIGINS: proxy.origin }) };
  const demo = await startDemo({ port: 0, workerPort: 0, env, logLevel: "warn", watch: false });
  proxy?.setTarget(demo.url);
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, colorScheme: "light", ...options.context });
  const pageErrors: string[] = [];
  context.on("page", (page) => page.on("pageerror", (error) => pageErrors.push(String(error))));
  const url = proxy?.origin ?? demo.url;
  return {
    demo,
    browser,
    context,
    proxy,
    url,
    pageErrors,
    async open(at = url) {
      const page = await context.newPage();
      await page.goto(at);
      await ready(page);
      return page;
    },
    async phone() {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "light" });
      const page = await phone.newPage();
      await page.goto(url);
      await ready(page);
      return page;
    },
    async close() {
      await browser.close();
      await demo.close();
      await proxy?.close();
    },
  };
}

/**
 * The simulator's reply to the chat request the proxy saw after its `mark`-th request, asked for again directly from
 * the Worker (as soon as that request is seen, so it streams while the page's does): what the page must end up
 * with, delta by delta.
 */
export async function simulatedAgain(run: DemoInChromium, mark: number): Promise<string[]> {
  const proxy = run.proxy!;
  let chat: SeenRequest | undefined;
  for (const started = Date.now(); !chat; await new Promise((r) => setTimeout(r, 20))) {
    chat = proxy.requests.slice(mark).find((r) => r.method === "POST" && r.path === "/v1/openai/chat/completions" && r.body !== "");
    if (Date.now() - started > TIMEOUT) throw new Error("the page sent no chat request");
  }
  const client = createClient({ baseURL: run.demo.worker.baseURL, maxRetries: 0 });
  const stream = client.chat.completions.create(JSON.parse(chat.body) as ChatCompletionCreateParamsStreaming);
  const deltas: string[] = [];
  for await (const delta of stream.textStream) deltas.push(delta);
  return deltas;
}
