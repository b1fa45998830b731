// Resumable replies in the demo page, in real Chromium, against the demo's own Worker (demo/serve.mjs, as `npm run
// demo` starts it: the relay and the simulated model), with a TCP proxy between the browser and the demo server
// (test/helpers/tcp-proxy.ts) that sees every request and can close a connection mid-answer.
//   - The server closes the socket that carries a streaming reply: the page's stream goes on by itself (one GET with
//     Last-Event-ID), the reply completes with the whole simulated text, from one chat request, and the page never
//     shows it interrupted.
//   - A reload mid-reply: the same reply completes, byte for byte, from one chat request (page.test.ts reloads, then
//     stops the reply; here it runs to its end and the requests are counted on the wire).
//   - A reload while a tool call is being written: the same call completes whole and waits for Allow; it runs once,
//     and each step is one chat request.
// "The whole simulated text" is the simulator's answer to the very body the page sent, asked for again directly.
// Each POST to the chat endpoint starts one generation, whose object calls the simulator once: the POSTs the proxy
// sees are the model calls.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SeenRequest, TcpProxy } from "../helpers/tcp-proxy.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, simulatedAgain, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { answer, lastReply, MESSAGES, ready, send, statuses, storedFinal, TIMEOUT } from "./page-helpers/demo-page.ts";

const CHAT = "/v1/openai/chat/completions";
/** Slow enough that a reply (about 180 deltas) streams for about 3 s: the cut and the reload land mid-reply. */
const TOKENS_PER_SECOND = 60;

describeInChromium("resumable replies in the demo page", { timeout: 60_000 }, () => {
  let run: DemoInChromium;
  /** In front of the demo server: it sees every request on the wire. */
  let proxy: TcpProxy;

  beforeAll(async () => {
    run = await startDemoInChromium({ tokensPerSecond: TOKENS_PER_SECOND, proxy: true });
    proxy = run.proxy!;
    // Every status a reply shows, and every notice, from the first paint of each document on (a reload included).
    await run.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(run.url).origin });
    await run.context.addInitScript(() => {
      // What reaches the clipboard, in each document: a tool that runs twice would write twice.
      const writes: string[] = [];
      (window as unknown as { __writes: string[] }).__writes = writes;
      const clipboard = navigator.clipboard;
      if (clipboard) {
        const write = clipboard.writeText.bind(clipboard);
        clipboard.writeText = (text: string) => (writes.push(text), write(text));
      }
      const seen = new Set<string>();
      (window as unknown as { __seen: Set<string> }).__seen = seen;
      const look = () => {
        for (const el of document.querySelectorAll('.message[data-role="assistant"]')) seen.add(`status ${el.getAttribute("data-status")}`);
        for (const el of document.querySelectorAll(".status-notice")) seen.add(`notice ${el.textContent}`);
      };
      new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    });
  });

  afterAll(() => run?.close());

  async function open(): Promise<Page> {
    const page = await run.open();
    await page.click("button.new-chat");
    return page;
  }

  /** What the page's document has shown of its replies since it loaded. */
  const seen = async (page: Page) => (await page.evaluate(() => [...(window as unknown as { __seen: Set<string> }).__seen])).sort();

  /** The API requests that reached the demo server since `mark`, generation ids left out. */
  const api = (mark: number) => proxy.requests.slice(mark).filter((r) => r.path.startsWith("/v1/openai/") && !r.path.endsWith("/info"));
  const named = (requests: SeenRequest[]) => requests.map((r) => `${r.method} ${r.path.replace(/generations\/[A-Za-z0-9_-]+$/, "generations/…")}`);

  /** The simulator's reply to the page's chat request after `mark` (simulatedAgain): its text and how many deltas. */
  async function simulated(mark: number): Promise<{ text: string; deltas: number }> {
    const deltas = await simulatedAgain(run, mark);
    return { text: deltas.join(""), deltas: deltas.length };
  }

  /** Nothing but streaming and complete: no interrupted or failed status, no notice. */
  const unbroken = (shown: string[]) => {
    expect(shown.filter((s) => !/^status (streaming|complete)$/.test(s))).toEqual([]);
    expect(shown).toContain("status complete");
  };

  /** The newest reply on screen, as the page stored it in IndexedDB, once its status is final. */
  async function stored(page: Page): Promise<{ status: string; content: string }> {
    return storedFinal(page, (await page.locator(`${MESSAGES}[data-role="assistant"]`).last().getAttribute("data-id"))!);
  }

  it("the server closes the socket mid-reply: the page's stream goes on by itself to the whole simulated text, from one chat request", async () => {
    const page = await open();
    const mark = proxy.requests.length;
    // The answer to the chat request (the reply's stream) is cut after about 25 of its ~180 events.
    proxy.cutOnce((r) => r.method === "POST" && r.path === CHAT, 6000);
    await send(page, "Tell me about resumable streams — ünïcödé ✓ 🚀");
    const expected = simulated(mark);
    await lastReply(page, "complete");
    const requests = api(mark);
    expect(proxy.cuts).toBe(1);
    // One chat request (one generation, one simulator run), then one resume of it after the last event the page had.
    expect(named(requests)).toEqual([`POST ${CHAT}`, "GET /v1/openai/generations/…"]);
    const lastEventId = Number(requests[1]!.headers["last-event-id"]);
    const reply = await expected;
    expect(lastEventId).toBeGreaterThan(1);
    expect(lastEventId, "cut mid-reply, not after its end").toBeLessThan(reply.deltas);
    expect(requests[1]!.connection).not.toBe(requests[0]!.connection);
    expect(await stored(page)).toEqual({ status: "complete", content: reply.text });
    // Streaming, then complete: never interrupted, no notice.
    unbroken(await seen(page));
    expect(run.pageErrors).toEqual([]);
    await page.close();
  });

  it("a reload mid-reply: the same reply completes byte for byte, from one chat request", async () => {
    const page = await open();
    const mark = proxy.requests.length;
    await send(page, "Another question, to be read on after a reload — 日本語 🦙");
    const expected = simulated(mark);
    const streaming = '.message[data-role="assistant"][data-status="streaming"] .message-body';
    // A third of the reply in (about 1 s): the stored reply (written every 250 ms while it streams) has text too.
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent?.length ?? 0) > 200, streaming, { timeout: TIMEOUT });
    const id = await page.locator(`${MESSAGES}[data-role="assistant"]`).last().getAttribute("data-id");
    await page.reload();
    await ready(page);
    // The same message (same id) goes on streaming after the reload and completes.
    await page.waitForSelector(`${MESSAGES}[data-id="${id}"]`, { timeout: TIMEOUT });
    await lastReply(page, "complete");
    expect(await page.locator(`${MESSAGES}[data-role="assistant"]`).last().getAttribute("data-id")).toBe(id);
    const requests = api(mark);
    const names = named(requests);
    expect(names.filter((n) => n === `POST ${CHAT}`), names.join(", ")).toHaveLength(1);
    expect(names[0]).toBe(`POST ${CHAT}`);
    // The rest are reads of that generation after the reload, from where the stored reply's text ends (not from the
    // start), and no DELETE: a reload is not a Stop.
    const resumes = requests.slice(1);
    expect(resumes.length).toBeGreaterThan(0);
    for (const r of resumes) {
      expect(`${r.method} ${r.path}`).toMatch(/^GET \/v1\/openai\/generations\/[A-Za-z0-9_-]{22}$/);
      expect(Number(r.headers["last-event-id"])).toBeGreaterThan(1);
    }
    const reply = await expected;
    expect(Number(resumes[0]!.headers["last-event-id"]), "reloaded mid-reply, not after its end").toBeLessThan(reply.deltas);
    expect(await stored(page)).toEqual({ status: "complete", content: reply.text });
    // What the reloaded page showed of the reply: streaming, then complete, never interrupted.
    unbroken(await seen(page));
    expect(run.pageErrors).toEqual([]);
    await page.close();
  });

  it("a reload while a tool call is being written: the same call completes whole, waits for Allow, runs once, one chat request per step", async () => {
    const page = await open();
    const mark = proxy.requests.length;
    // About 60 argument tokens: a second of writing at 60 tokens/s.
    const text = `Copy me across a reload — ${"a line to copy, ".repeat(12)}the end`;
    await send(page, `Copy "${text}" to my clipboard`);
    const call = `${MESSAGES} .tool-call[data-name="copy_to_clipboard"]`;
    await page.waitForFunction(
      (sel) => {
        const row = document.querySelector(sel);
        return row?.getAttribute("data-state") === "input" && (row.querySelector(".tool-args")?.textContent?.length ?? 0) > 30;
      },
      call,
      { timeout: TIMEOUT, polling: 20 },
    );
    const id = await page.locator(`${MESSAGES}[data-role="assistant"]`).last().getAttribute("data-id");
    await page.reload();
    await ready(page);
    // The same message goes on: its call completes and waits; nothing ran, in the old document or this one.
    await page.waitForSelector(`${MESSAGES}[data-id="${id}"] .tool-call[data-state="approval"]`, { timeout: TIMEOUT });
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
    const beforeAllow = named(api(mark));
    expect(beforeAllow.filter((n) => n === `POST ${CHAT}`), beforeAllow.join(", ")).toHaveLength(1);
    expect(beforeAllow.slice(1).every((n) => n === "GET /v1/openai/generations/…"), beforeAllow.join(", ")).toBe(true);
    expect(beforeAllow.length).toBeGreaterThan(1);

    await page.click('button[aria-label="Allow copy_to_clipboard"]');
    expect(await answer(page)).toContain(`Copied ${[...text].length} characters to your clipboard.`);
    // The arguments whole, as written before and after the reload: nothing lost or repeated at the seam.
    await page.locator(`${call} .tool-args-folded summary`).click();
    expect(JSON.parse((await page.locator(`${call} .tool-args-folded pre`).textContent())!)).toEqual({ text });
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([text]);
    expect(await page.getAttribute(call, "data-state")).toBe("done");
    // Two steps, one chat request each; the first read on after the reload, and no DELETE.
    const names = named(api(mark));
    expect(names.filter((n) => n === `POST ${CHAT}`), names.join(", ")).toHaveLength(2);
    expect(names.filter((n) => !/^(POST \/v1\/openai\/chat\/completions|GET \/v1\/openai\/generations\/…)$/.test(n))).toEqual([]);
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete", "assistant:complete"]);
    expect(run.pageErrors).toEqual([]);
    await page.close();
  });
});
