// The demo page open in two tabs of one browser (one context: the same IndexedDB, BroadcastChannel and Web Locks),
// in real Chromium, against the demo's own Worker and simulated model (demo/serve.mjs, as `npm run demo` starts it).
// One conversation, two writers: each tab shows the other's turns as they stream, a send waits for the other tab's
// turn and says so, the other tab's unanswered question is not offered for a competing reply while its turn runs,
// this tab's own sends queue, the cost line counts every reply that was paid for, and a version switch in one tab
// is followed in the other. The tests run in order on one conversation (the first four), like two windows a user
// keeps open.
import type { Page, Response } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { formatCost, formatInt } from "../../demo/src/format.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { lastReply, MESSAGES, meterText, newChat, ready, send, statuses, TIMEOUT } from "./page-helpers/demo-page.ts";

/** What the page says while a send waits for another tab's turn, and while it is queued behind this tab's reply. */
const WAITING = "Waiting for the other tab to finish its reply…";
const QUEUED = "Queued — it goes out when the reply above is done";
const ELSEWHERE = "The other tab is getting the reply…";

describeInChromium("the demo page in two tabs", { timeout: 90_000 }, () => {
  let run: DemoInChromium;
  let a: Page;
  let b: Page;
  let id: string;

  beforeAll(async () => {
    // Fast, so ordinary replies take milliseconds; /slow caps itself at 10 tokens/s (minutes for all of it).
    run = await startDemoInChromium();
    // Playwright's input to a page that is not the front one is slow (a second or two per click in headless
    // Chromium): each step brings the tab it acts in to the front, as a user switching tabs would.
    a = await run.open();
    b = await run.open();
  });

  afterAll(() => run?.close());

  it("shows the other tab's new turn as it streams, without a reload, and the list counts what is shown", async () => {
    await a.bringToFront();
    await send(a, "A first question from tab A");
    await lastReply(a, "complete");
    id = conversationId(a);
    // Tab B was open all along: the list shows the new conversation; open it there.
    await b.bringToFront();
    await b.click('.conversation-open:has-text("A first question from tab A")');
    await agree(b, 2);
    // Neither a reload nor a re-read of the conversation: what is on screen stays, and the new turn is added to it.
    await b.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
      (document.querySelector(".messages-inner > .message[data-id]") as unknown as { __kept: boolean }).__kept = true;
    });

    await a.bringToFront();
    await send(a, "/slow");
    // Tab B: tab A's question, then its reply, its text growing as tab A writes it (every 250 ms; /slow streams its
    // header first, at 10 tokens/s).
    const streaming = `${MESSAGES}[data-role="assistant"][data-status="streaming"]`;
    await b.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes("Simulated reply."), streaming, { timeout: TIMEOUT });
    const partial = (await b.textContent(`${streaming} .message-body`))!;
    await b.waitForFunction(([sel, n]) => (document.querySelector(sel!)?.textContent?.length ?? 0) > Number(n), [`${streaming} .message-body`, partial.length] as const, {
      timeout: TIMEOUT,
    });
    expect(await b.textContent(`${MESSAGES}[data-role="user"]:nth-last-child(2) .message-body`)).toBe("/slow");
    expect(await b.textContent(`${streaming} .badge.streaming`)).toBe("Writing in another tab…");
    // Tab B starts nothing: no Stop there, no Regenerate on a reply another tab is writing.
    expect(await b.isVisible("button.stop")).toBe(false);
    expect(await b.locator(`${MESSAGES} button[aria-label="Regenerate"]`).count()).toBe(0);
    await agree(b, 4);

    // Tab A stops its reply: tab B shows it stopped, with the same text, as tab A does.
    await a.bringToFront();
    await a.click("button.stop");
    await lastReply(a, "interrupted");
    await lastReply(b, "interrupted");
    expect(await lastBody(b)).toBe(await lastBody(a));
    expect(await statuses(b)).toEqual(["user:complete", "assistant:complete", "user:complete", "assistant:interrupted"]);
    expect(await statuses(b)).toEqual(await statuses(a));
    // A reply that ended keeps no caret, in the tab that wrote it or the one that followed it.
    for (const page of [a, b]) expect(await page.locator(`${MESSAGES} .caret, ${MESSAGES} .typing`).count()).toBe(0);
    await agree(b, 4);
    await agree(a, 4);
    expect(await b.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await b.evaluate(() => (document.querySelector(".messages-inner > .message[data-id]") as unknown as { __kept?: boolean }).__kept)).toBe(true);
    expect(run.pageErrors).toEqual([]);
  });

  it("sends from one tab while the other tab's reply streams: says it waits, then answers with the whole history", async () => {
    await a.bringToFront();
    await send(a, "/slow");
    const streaming = `${MESSAGES}[data-role="assistant"][data-status="streaming"]`;
    await b.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes("Simulated reply."), streaming, { timeout: TIMEOUT });
    // Tab B reloads meanwhile: it finds tab A's reply still being written (not "interrupted"), and follows it.
    await b.reload();
    await ready(b);
    await b.waitForSelector(`${streaming} .badge.streaming:text("Writing in another tab…")`, { timeout: TIMEOUT });
    const before = (await b.textContent(`${streaming} .message-body`))!.length;
    await b.waitForFunction(([sel, n]) => (document.querySelector(sel!)?.textContent?.length ?? 0) > Number(n), [`${streaming} .message-body`, before] as const, { timeout: TIMEOUT });

    const question = "Tab B asks this in eight short words";
    await b.bringToFront();
    await b.fill(".composer-input", question);
    await b.keyboard.press("Enter");
    // The message is shown unsent, and the reply to come says in words what it waits for.
    const waiting = b.locator('.messages-inner > .message.pending[data-state="waiting"]');
    await waiting.waitFor({ timeout: TIMEOUT });
    expect(await waiting.locator(".pending-text").textContent()).toBe(WAITING);
    expect(await waiting.locator(".pending-text").isVisible()).toBe(true);
    expect(await b.textContent(".messages-inner > .message.unsent .message-body")).toBe(question);
    expect(await b.inputValue(".composer-input")).toBe("");
    expect(await b.isVisible("button.stop")).toBe(true); // Stop would cancel it
    // Still waiting a moment later: nothing of tab B's is stored or sent while tab A's turn runs.
    await b.waitForTimeout(600);
    expect(await waiting.isVisible()).toBe(true);
    expect((await stored(b, id)).length).toBe(6);

    await a.bringToFront();
    await a.click("button.stop");
    const reply = await lastReply(b, "complete");
    expect(await b.locator(".messages-inner > .message.pending, .messages-inner > .message.unsent").count()).toBe(0);
    // The request carried every earlier turn, tab A's included (the simulator counts what it was sent).
    expect(reply).toContain("Your last message: 8 words");
    expect(reply).toContain("The conversation: 7 messages (4 user, 3 assistant)");

    // In the store: user and assistant alternate, each reply right after the question it answers.
    const messages = await stored(b, id);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant", "user", "assistant"]);
    expect(messages.map((m) => m.status)).toEqual(["", "complete", "", "interrupted", "", "interrupted", "", "complete"]);
    expect(messages[1]!.text).toContain("Your last message: **6 words**");
    // The two /slow replies, stopped early: how far each got depends on when the stop came (tab B, following tab A's
    // generation live, sees it grow within one event).
    expect(messages[3]!.text).toMatch(/^\*\*Simulated reply\.\*\*/);
    expect(messages[5]!.text).toMatch(/^\*\*Simulated reply\.\*\*/);
    expect(messages[6]!.text).toBe(question);
    expect(messages[7]!.text).toContain("Your last message: **8 words**");

    // Tab A follows tab B's turn the same way: both tabs show the same transcript, list count and cost.
    await lastReply(a, "complete");
    expect(await lastBody(a)).toBe(await lastBody(b));
    expect(await statuses(a)).toEqual(await statuses(b));
    await agree(a, 8);
    await agree(b, 8);
    await a.waitForFunction((cost) => document.querySelector(".meter-cost")?.textContent === cost, await b.textContent(".meter-cost"), { timeout: TIMEOUT });
    expect(run.pageErrors).toEqual([]);
  });

  it("says when the other tab's question is waiting for its reply, offers nothing to start meanwhile, and does once that tab is gone", async () => {
    const elsewhere = b.locator('.messages-inner > .message.pending[data-state="elsewhere"]');
    const actions = b.locator(`${MESSAGES} button[aria-label="Get a reply"], ${MESSAGES} button[aria-label="Edit"]`);
    // Tab A's request is held back: its question is stored and its turn runs, but no reply has begun.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await a.route("**/v1/openai/chat/completions", async (route) => {
      await held;
      await route.continue().catch(() => {}); // the test may have ended (unrouted) meanwhile
    });
    try {
      await a.bringToFront();
      await send(a, "Held back for a while");
      await b.waitForFunction(() => document.querySelector(".messages-inner > .message[data-id]:last-of-type")?.textContent?.includes("Held back for a while"), null, { timeout: TIMEOUT });
      await elsewhere.waitFor({ timeout: TIMEOUT });
      expect(await elsewhere.locator(".pending-text").textContent()).toBe(ELSEWHERE);
      expect(await actions.count()).toBe(0);
      release();
      await lastReply(b, "complete");
      expect(await elsewhere.count()).toBe(0);
    } finally {
      release();
      await a.unroute("**/v1/openai/chat/completions");
    }

    // A third tab asks, and closes before any reply: its turn ends with it, and tab B offers to get the reply.
    const c = await run.open();
    await c.route("**/v1/openai/chat/completions", () => new Promise<void>(() => {}));
    await c.click(`.conversation-open:has-text("A first question from tab A")`);
    await agree(c, 10);
    await send(c, "Asked by a tab that closes");
    await elsewhere.waitFor({ timeout: TIMEOUT });
    await c.close();
    await b.bringToFront();
    await b.locator(`${MESSAGES} button[aria-label="Get a reply"]`).waitFor({ timeout: TIMEOUT });
    expect(await elsewhere.count()).toBe(0);
    await b.click(`${MESSAGES} button[aria-label="Get a reply"]`);
    expect(await lastReply(b, "complete")).toContain("Your last message: 6 words");
    await agree(b, 12);
    expect(run.pageErrors).toEqual([]);
  });

  it("queues a message sent while this tab's reply is on its way, sends it after, and gives back a cancelled one", async () => {
    await a.bringToFront();
    await newChat(a);
    // Hold the first request back, so its reply is on its way for as long as the test needs.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let requests = 0;
    await a.route("**/v1/openai/chat/completions", async (route) => {
      if (++requests === 1) await held;
      await route.continue().catch(() => {}); // the test may have ended (unrouted) meanwhile
    });
    try {
      await send(a, "The first of two questions");
      await a.fill(".composer-input", "And a second one, queued");
      await a.keyboard.press("Enter");
      const queued = a.locator('.messages-inner > .message.pending[data-state="queued"]');
      await queued.waitFor({ timeout: TIMEOUT });
      expect(await queued.locator(".pending-text").textContent()).toBe(QUEUED);
      expect(await a.textContent(".messages-inner > .message.unsent .message-body")).toBe("And a second one, queued");

      // A third, cancelled while queued: it never goes out, and its text comes back into the box.
      await a.fill(".composer-input", "A third, cancelled");
      await a.keyboard.press("Enter");
      await a.waitForFunction(() => document.querySelectorAll(".message.pending[data-state='queued']").length === 2, null, { timeout: TIMEOUT });
      await a.locator(".messages-inner > .message.pending").last().getByRole("button", { name: "Cancel this message" }).click();
      await a.waitForFunction(() => document.querySelectorAll(".message.unsent").length === 1, null, { timeout: TIMEOUT });
      expect(await a.inputValue(".composer-input")).toBe("A third, cancelled");
      await a.fill(".composer-input", "");

      release();
      await a.waitForFunction(() => document.querySelectorAll(".messages-inner > .message[data-id]").length === 4, null, { timeout: TIMEOUT });
      await lastReply(a, "complete");
      expect(await statuses(a)).toEqual(["user:complete", "assistant:complete", "user:complete", "assistant:complete"]);
      const messages = await stored(a, conversationId(a));
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
      expect(messages[0]!.text).toBe("The first of two questions");
      expect(messages[1]!.text).toContain("Your last message: **5 words**");
      expect(messages[2]!.text).toBe("And a second one, queued");
      expect(messages[3]!.text).toContain("Your last message: **5 words**");
      expect(messages[3]!.text).toContain("The conversation: **3 messages**");
      expect(requests).toBe(2);
    } finally {
      release();
      await a.unroute("**/v1/openai/chat/completions");
    }

    // Stop while a message is queued: the reply stops, the queued message is not sent and comes back.
    await send(a, "/slow");
    await a.waitForFunction(() => document.querySelector('.message[data-status="streaming"]')?.textContent?.includes("Simulated reply."), null, { timeout: TIMEOUT });
    await a.fill(".composer-input", "Never sent");
    await a.keyboard.press("Enter");
    await a.locator('.messages-inner > .message.pending[data-state="queued"]').waitFor({ timeout: TIMEOUT });
    await a.click("button.stop");
    await lastReply(a, "interrupted");
    expect(await a.inputValue(".composer-input")).toBe("Never sent");
    expect(await a.locator(".messages-inner > .message.unsent").count()).toBe(0);
    expect((await stored(a, conversationId(a))).map((m) => m.text)).not.toContain("Never sent");
    await a.fill(".composer-input", "");
    expect(run.pageErrors).toEqual([]);
  });

  it("counts what every reply cost, the one Regenerate replaced included, and still after a reload", async () => {
    const usages: Promise<Usage | undefined>[] = [];
    const onResponse = (response: Response) => {
      if (response.url().includes("/v1/openai/chat/completions") && response.request().method() === "POST") usages.push(response.text().then(usageOf, () => undefined));
    };
    a.on("response", onResponse);
    try {
      await a.bringToFront();
      await newChat(a);
      await send(a, "What does this conversation cost?");
      await lastReply(a, "complete");
      const replaced = await a.getAttribute(`${MESSAGES}[data-role="assistant"]`, "data-id");
      await a.click(`${MESSAGES}[data-role="assistant"] button[aria-label="Regenerate"]`);
      await a.waitForSelector(`${MESSAGES}[data-role="assistant"]:not([data-id="${replaced}"])`, { timeout: TIMEOUT });
      await lastReply(a, "complete");
    } finally {
      a.off("response", onResponse);
    }
    const all = await Promise.all(usages);
    expect(all).toHaveLength(2);
    expect(all.every((u) => u !== undefined && u.estimated_cost > 0)).toBe(true);
    const spent = (all as Usage[]).reduce((sum, u) => ({ cost: sum.cost + u.estimated_cost, prompt: sum.prompt + u.prompt_tokens, completion: sum.completion + u.completion_tokens }), { cost: 0, prompt: 0, completion: 0 });
    const onlyShown = all[1]!;
    // The two figures differ on screen, so the line below can tell them apart.
    expect(formatCost(spent.cost)).not.toBe(formatCost(onlyShown.estimated_cost));
    const check = async () => {
      expect(await a.textContent(".meter-cost")).toBe(`${formatCost(spent.cost)} so far`);
      expect(await a.getAttribute(".meter-cost", "title")).toContain(`${formatInt(spent.prompt)} prompt + ${formatInt(spent.completion)} completion tokens`);
    };
    await check();
    expect(await meterText(a)).toContain(`${formatCost(spent.cost)} so far`);

    await a.reload();
    await ready(a);
    await a.waitForSelector(`${MESSAGES}[data-role="assistant"][data-status="complete"]`, { timeout: TIMEOUT });
    expect(await statuses(a)).toEqual(["user:complete", "assistant:complete"]);
    await check();
    expect(run.pageErrors).toEqual([]);
  });

  it("follows a version switch made in the other tab, both ways, without a reload", async () => {
    // The conversation of the test above: its reply has two versions (the first, and the one Regenerate made).
    const reply = `${MESSAGES}[data-role="assistant"]`;
    const position = (page: Page) => page.textContent(`${reply} .version-position`);
    const cost = await a.textContent(".meter-cost");
    await b.bringToFront();
    await b.click('.conversation-open:has-text("What does this conversation cost?")');
    await b.waitForFunction((sel) => document.querySelector(sel)?.textContent === "2/2", `${reply} .version-position`, { timeout: TIMEOUT });
    const second = await b.getAttribute(reply, "data-id");
    expect(await a.getAttribute(reply, "data-id")).toBe(second);
    await b.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    await a.bringToFront();
    await a.click(`${reply} button[aria-label="Previous version"]`);
    await a.waitForSelector(`${reply}:not([data-id="${second}"])`, { timeout: TIMEOUT });
    const first = await a.getAttribute(reply, "data-id");
    expect(await position(a)).toBe("1/2");
    await b.waitForSelector(`${reply}[data-id="${first}"]`, { timeout: TIMEOUT });
    expect(await position(b)).toBe("1/2");
    expect(await statuses(b)).toEqual(["user:complete", "assistant:complete"]);

    await b.bringToFront();
    await b.click(`${reply} button[aria-label="Next version"]`);
    await a.waitForSelector(`${reply}[data-id="${second}"]`, { timeout: TIMEOUT });
    expect(await position(a)).toBe("2/2");
    // Switching spends nothing: both tabs still count every version's cost.
    for (const page of [a, b]) expect(await page.textContent(".meter-cost")).toBe(cost);
    expect(await b.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(run.pageErrors).toEqual([]);
  });
});

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  estimated_cost: number;
}

/** The usage in a streamed reply's SSE body (its last chunk), as the server priced it. */
function usageOf(body: string): Usage | undefined {
  let usage: Usage | undefined;
  for (const line of body.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const event = JSON.parse(line.slice(6)) as { usage?: Usage };
    if (event.usage) usage = event.usage;
  }
  return usage;
}

/** The text of the newest message on screen. */
function lastBody(page: Page): Promise<string | null> {
  return page.locator(MESSAGES).last().locator(".message-body").textContent();
}

function conversationId(page: Page): string {
  const id = decodeURIComponent(new URL(page.url()).hash.slice(1));
  expect(id).not.toBe("");
  return id;
}

/** The list's "N messages" for the open conversation, and the messages on screen, are both `n`. */
async function agree(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const shown = document.querySelectorAll(".messages-inner > .message[data-id]").length;
      const listed = document.querySelector(".conversation.active .conversation-meta")?.textContent ?? "";
      return shown === n && listed.endsWith(`· ${n} messages`);
    },
    n,
    { timeout: TIMEOUT },
  );
}

/** The conversation as the store holds it, read in the page through the demo's own store module. */
async function stored(page: Page, id: string): Promise<{ role: string; text: string; status: string }[]> {
  return page.evaluate(async (id) => {
    type Stored = { role: string; content: string | { type: string; text?: string }[]; status?: string };
    type StoreModule = { openStore(onBlocked: () => void): { loadMessages(id: string, o: { limit: number }): Promise<{ messages: Stored[] }>; close?(): void } };
    // A literal import() here would be rewritten by vitest.
    const load = new Function("url", "return import(url)") as (url: string) => Promise<StoreModule>;
    const store = (await load("/src/store.ts")).openStore(() => {});
    try {
      const { messages } = await store.loadMessages(id, { limit: Infinity });
      return messages.map((m) => ({
        role: m.role,
        text: typeof m.content === "string" ? m.content : m.content.map((p) => p.text ?? "").join(""),
        status: m.status ?? "",
      }));
    } finally {
      store.close?.();
    }
  }, id);
}
