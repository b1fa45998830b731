// A second window watching a conversation shows another window's reply live (issue 14), in real Chromium, against
// the demo's own Worker (demo/serve.mjs: the relay and the simulated model), with a TCP proxy in front of the demo
// server (test/helpers/tcp-proxy.ts) that sees every request on the wire.
//   Tab A writes a slow reply (the simulator at 60 tokens per second: about 3 s). Tab B, open on the same
//   conversation, reads the same generation from the relay (GET with Last-Event-ID, read-only) and shows each event
//   as it comes: far more steps than tab A's store writes (every 250 ms) could give it, never a step back, never much
//   behind tab A. At the end both show the same text, byte for byte; the model was asked once; nothing was cancelled.
// What a tab shows is read by a MutationObserver in the page (each rendered state of the reply, with its time), and
// each state is placed in the generation: the number k of its events whose text, rendered by the demo's own markdown
// renderer, is what the tab shows (rendered markdown is not a prefix of what comes after it: "**Sim" becomes "Sim").
// Tab B is a window of its own, side by side with tab A's (window.open with noopener: its own event loop), as one
// watches a conversation. Two tabs of one window would not do: headless Chromium draws a tab that is not the front
// one about once a second (requestAnimationFrame, which the page renders in, stalls for ~1 s at a time), whatever
// the page does.
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TcpProxy } from "../helpers/tcp-proxy.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, simulatedAgain, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { COMPLETIONS, lastReply, MESSAGES, ready, send, storedFinal, streamedCompletion, TIMEOUT } from "./page-helpers/demo-page.ts";

const CHAT = "/v1/openai/chat/completions";
const GENERATION = /^\/v1\/openai\/generations\/[A-Za-z0-9_-]{22}$/;
/** A reply of about 200 events streams for about 3.5 s: one event every 17 ms, 15 in the 250 ms between two store writes. */
const TOKENS_PER_SECOND = 60;
/** How often the writing tab stores its streaming reply, at most (src/conversation/persist.ts). */
const WRITE_INTERVAL_MS = 250;

/** One state of the newest reply as a tab rendered it. */
interface Shown {
  t: number;
  id: string;
  status: string;
  text: string;
}

describeInChromium("the demo page shows another tab's reply live", { timeout: 60_000 }, () => {
  let run: DemoInChromium;
  /** In front of the demo server: it sees every request on the wire. */
  let proxy: TcpProxy;

  beforeAll(async () => {
    run = await startDemoInChromium({ tokensPerSecond: TOKENS_PER_SECOND, proxy: true });
    proxy = run.proxy!;
    // Every state of the newest reply each document renders, as it renders it (a MutationObserver's callback runs
    // right after the DOM changed), with the time: both tabs read the same clock.
    await run.context.addInitScript(() => {
      const shown: Shown[] = [];
      (window as unknown as { __shown: Shown[] }).__shown = shown;
      let last: Shown | undefined;
      const look = () => {
        const replies = document.querySelectorAll('.messages-inner > .message[data-role="assistant"][data-id]');
        const reply = replies[replies.length - 1];
        if (!reply) return;
        const now = { t: performance.timeOrigin + performance.now(), id: reply.getAttribute("data-id")!, status: reply.getAttribute("data-status")!, text: reply.querySelector(".message-body")?.textContent ?? "" };
        if (last && now.id === last.id && now.status === last.status && now.text === last.text) return;
        shown.push((last = now));
      };
      new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-status", "data-id"] });
    });
  });

  afterAll(() => run?.close());

  it("tab B reads tab A's generation from the relay and shows each event as it comes, then the same text", async () => {
    const a = await run.context.newPage();
    await a.goto(run.url);
    await ready(a);
    // The conversation's first turn only makes it exist: its reply is canned (the page's own request never leaves
    // the browser), so that only the reply under test is slow.
    await a.route(COMPLETIONS, (route) =>
      route.fulfill(streamedCompletion(["A short ", "first reply."], { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, estimated_cost: 0.000_01 })),
    );
    await send(a, "Hello");
    await lastReply(a, "complete");
    await a.unroute(COMPLETIONS);
    const id = decodeURIComponent(new URL(a.url()).hash.slice(1));
    expect(id).not.toBe("");
    // Tab B: a window of its own on the conversation's address (no opener: its own event loop).
    const [b] = await Promise.all([run.context.waitForEvent("page"), a.evaluate((url) => void window.open(url, "_blank", "popup,noopener,width=1280,height=820"), a.url())]);
    await ready(b);
    await b.waitForFunction(() => document.querySelectorAll(".messages-inner > .message[data-id]").length === 2, null, { timeout: TIMEOUT });

    const requests: Record<"a" | "b", Request[]> = { a: [], b: [] };
    a.on("request", (r) => requests.a.push(r));
    b.on("request", (r) => requests.b.push(r));
    const mark = proxy.requests.length;
    await a.bringToFront();
    await send(a, "Tell me, slowly, about the generation both tabs are reading — ünïcödé ✓ 🚀");
    const expected = simulatedAgain(run, mark);
    await lastReply(a, "complete");
    await lastReply(b, "complete");
    const deltas = await expected;

    const reply = await a.locator(`${MESSAGES}[data-role="assistant"]`).last().getAttribute("data-id");
    const of = async (page: Page) => (await page.evaluate(() => (window as unknown as { __shown: Shown[] }).__shown)).filter((s) => s.id === reply);
    const shownA = await of(a);
    const shownB = await of(b);
    const renders = await rendered(a, deltas);
    const placedA = place(shownA, renders);
    const placedB = place(shownB, renders);

    // Each tab shows the reply growing, never a step back, to the whole text.
    for (const placed of [placedA, placedB]) {
      expect(placed.map((s) => s.k), timeline(placedA, placedB)).toEqual(placed.map((s) => s.k).sort((x, y) => x - y));
      expect(placed.at(-1)).toMatchObject({ k: deltas.length, status: "complete" });
      expect(placed.slice(0, -1).every((s) => s.status === "streaming")).toBe(true);
    }
    // In more steps than the writer's store writes could give it: at most one every 250 ms while the reply
    // streams, and the first and the last.
    const seconds = (placedA.at(-1)!.t - placedA[0]!.t) / 1000;
    const writes = Math.floor((seconds * 1000) / WRITE_INTERVAL_MS) + 2;
    const steps = new Set(placedB.map((s) => s.k)).size;
    // Never far behind tab A, nor ahead of it by much (each reads the generation on its own): at every moment
    // either tab's shown state changed, what B shows is within a tenth of a second of streaming of what A shows.
    const gaps = moments(placedA, placedB).map(([kA, kB]) => kA - kB);
    console.log(JSON.stringify({ seconds, writes, steps, behind: Math.max(...gaps), ahead: -Math.min(...gaps), median: gaps.sort((x, y) => x - y)[gaps.length >> 1], over5: gaps.filter((g) => Math.abs(g) > 5).length, n: gaps.length }));
    expect(steps, timeline(placedA, placedB)).toBeGreaterThanOrEqual(3 * writes);

    // Both tabs end with the same text, byte for byte (the same markup too), the generation's whole text.
    const body = (page: Page) => page.locator(`${MESSAGES}[data-id="${reply}"] .message-body`).innerHTML();
    expect(await body(b)).toBe(await body(a));
    expect(await b.locator(`${MESSAGES}[data-id="${reply}"] .message-body`).textContent()).toBe(renders.at(-1));
    expect(await storedFinal(a, reply!)).toEqual({ status: "complete", content: deltas.join("") });

    // On the wire: one chat request (the one generation, the one simulator run), tab B's reads of it with
    // Last-Event-ID, nothing cancelled.
    const wire = proxy.requests.slice(mark).filter((r) => r.path.startsWith("/v1/openai/") && !r.path.endsWith("/info"));
    const posts = wire.filter((r) => r.method === "POST");
    const gets = wire.filter((r) => r.method === "GET");
    expect(posts.map((r) => r.path)).toEqual([CHAT]);
    expect(wire.filter((r) => r.method !== "POST" && r.method !== "GET")).toEqual([]);
    expect(gets.length).toBeGreaterThan(0);
    for (const r of gets) {
      expect(r.path).toMatch(GENERATION);
      expect(r.path).toBe(gets[0]!.path);
      expect(Number(r.headers["last-event-id"])).toBeGreaterThanOrEqual(1);
    }
    // Those reads are tab B's: tab A, the writer, reads its reply from its own request. (The proxy may see more
    // than tab B asked for: Chromium sends a GET again by itself when a kept-alive connection it reused was closed.)
    const reads = (page: Request[]) => page.filter((r) => GENERATION.test(new URL(r.url()).pathname)).map((r) => r.method());
    expect(reads(requests.b).length).toBeGreaterThan(0);
    expect(reads(requests.b).length).toBeLessThanOrEqual(gets.length);
    expect(reads(requests.b).every((m) => m === "GET")).toBe(true);
    expect(reads(requests.a)).toEqual([]);
    expect(requests.b.filter((r) => r.method() === "DELETE")).toEqual([]);
    expect(run.pageErrors).toEqual([]);
  });
});

/** [A's k, B's k] at each moment either tab's shown state changed, from the moment B shows the reply. */
function moments(a: readonly Placed[], b: readonly Placed[]): [number, number][] {
  const times = [...a, ...b].map((s) => s.t).filter((t) => t >= b[0]!.t).sort((x, y) => x - y);
  const at = (placed: readonly Placed[], t: number) => placed.filter((s) => s.t <= t).at(-1)?.k ?? 0;
  return times.map((t) => [at(a, t), at(b, t)]);
}

/** What each tab showed when, for a failure's message: "ms:k" from the reply's first state. */
function timeline(a: readonly Placed[], b: readonly Placed[]): string {
  const start = Math.min(a[0]!.t, b[0]!.t);
  const line = (placed: readonly Placed[]) => placed.map((s) => `${Math.round(s.t - start)}:${s.k}`).join(" ");
  return `tab A ${line(a)}\ntab B ${line(b)}`;
}

/** The text the demo renders for the first k events of the reply, for every k (index k). */
function rendered(page: Page, deltas: readonly string[]): Promise<string[]> {
  return page.evaluate(async (deltas) => {
    type Markdown = { renderMarkdown(source: string): DocumentFragment };
    // A literal import() here would be rewritten by vitest.
    const load = new Function("url", "return import(url)") as (url: string) => Promise<Markdown>;
    const { renderMarkdown } = await load("/src/markdown/index.ts");
    const texts: string[] = [];
    let source = "";
    for (let k = 0; ; k++) {
      texts.push(renderMarkdown(source).textContent ?? "");
      if (k === deltas.length) return texts;
      source += deltas[k];
    }
  }, deltas);
}

/** A rendered state placed in the generation: it shows the text of the first k events (the fewest that render so). */
interface Placed extends Shown {
  k: number;
}

function place(shown: readonly Shown[], renders: readonly string[]): Placed[] {
  let at = 0;
  return shown.map((s) => {
    // The first k at or after the previous state's that renders as shown; or, were it a step back, the first at all.
    let k = renders.indexOf(s.text, at);
    if (k === -1) k = renders.indexOf(s.text);
    if (k === -1) throw new Error(`a tab showed text that no prefix of the reply renders as: ${JSON.stringify(s.text.slice(-80))}`);
    at = k;
    return { ...s, k };
  });
}
