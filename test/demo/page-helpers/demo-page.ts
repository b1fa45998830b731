// Driving the demo page like a user: type, press Enter, read what is on screen.
import type { Page } from "playwright-core";

export const TIMEOUT = 20_000;

export async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready]", { timeout: TIMEOUT });
}

/** Type a message and press Enter; resolves once it is on screen (so the reply that follows is the new one). */
export async function send(page: Page, text: string): Promise<void> {
  const before = await page.locator('.messages-inner > .message[data-role="user"]').count();
  await page.fill(".composer-input", text);
  await page.keyboard.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll('.messages-inner > .message[data-role="user"]').length > n, before, { timeout: TIMEOUT });
}

/** Messages of the conversation on screen (not a placeholder for a reply to come, nor a message not sent yet). */
export const MESSAGES = ".messages-inner > .message[data-id]";

/** The status of each message on screen, in order: "complete", "streaming", "interrupted", "error". */
export function statuses(page: Page): Promise<string[]> {
  return page.$$eval(MESSAGES, (els) => els.map((el) => `${el.getAttribute("data-role")}:${el.getAttribute("data-status")}`));
}

/** Wait until the newest reply has ended with `status`, and return its text. */
export async function lastReply(page: Page, status: "complete" | "interrupted" | "error"): Promise<string> {
  const handle = await page.waitForFunction(
    (wanted) => {
      // The newest message on screen must be the reply (not the user's message it answers, still waiting).
      const all = document.querySelectorAll(".messages-inner > .message[data-id]");
      const last = all[all.length - 1];
      if (last?.getAttribute("data-role") !== "assistant") return false;
      const busy = document.querySelector("button.stop:not([hidden])") !== null;
      return last?.getAttribute("data-status") === wanted && !busy ? (last.querySelector(".message-main")?.textContent ?? "") : false;
    },
    status,
    { timeout: TIMEOUT },
  );
  return (await handle.jsonValue()) as string;
}

export async function newChat(page: Page): Promise<void> {
  await page.click("button.new-chat");
  await page.waitForSelector("#empty-state:not([hidden])", { timeout: TIMEOUT });
}

export function sidebarTitles(page: Page): Promise<string[]> {
  return page.$$eval(".conversation-title", (els) => els.map((el) => el.textContent ?? ""));
}

export function meterText(page: Page): Promise<string> {
  return page.$eval("#meter", (el) => el.textContent ?? "");
}

/** The chat endpoint as the page calls it (through the demo server's proxy), for `page.route`. */
export const COMPLETIONS = "**/v1/openai/chat/completions";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated_cost: number;
}

/** A streamed chat completion as DeepInfra sends it (server-sent events): `deltas` in order, then `usage`, then [DONE]. */
export function streamedCompletion(deltas: readonly string[], usage: Usage): { status: number; headers: Record<string, string>; body: string } {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "meta-llama/Llama-3.2-90B-Vision-Instruct", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  const body = chunk({ role: "assistant", content: "" }) + deltas.map((content) => chunk({ content })).join("") + chunk({}, "stop", { usage }) + "data: [DONE]\n\n";
  return { status: 200, headers: { "content-type": "text/event-stream" }, body };
}

/** Press Regenerate on the newest reply and wait for the new version to end; returns its text. */
export async function regenerate(page: Page): Promise<string> {
  const reply = page.locator(`${MESSAGES}[data-role="assistant"]`).last();
  const replaced = await reply.getAttribute("data-id");
  await reply.getByRole("button", { name: "Regenerate" }).click();
  await page.waitForSelector(`${MESSAGES}[data-role="assistant"]:not([data-id="${replaced}"])`, { timeout: TIMEOUT });
  return lastReply(page, "complete");
}

/** Wait until `selector` (a message) shows the version `position` ("2/3") and its text contains `text`. */
export async function showsVersion(page: Page, selector: string, position: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([selector, position, text]) => {
      const message = document.querySelector(selector!);
      return message?.querySelector(".version-position")?.textContent === position && message.querySelector(".message-body")?.textContent?.includes(text!);
    },
    [selector, position, text] as const,
    { timeout: TIMEOUT },
  );
}

/** The accessible name of the element that has the keyboard focus. */
export function focused(page: Page): Promise<string | null | undefined> {
  return page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
}

/** Wait for the answer of a turn that used tools: the newest reply, with no calls of its own, ended; its text. */
export async function answer(page: Page): Promise<string> {
  await page.waitForFunction(
    () => {
      const all = document.querySelectorAll(".messages-inner > .message[data-id]");
      const last = all[all.length - 1];
      return last?.getAttribute("data-role") === "assistant" && !last.querySelector(".tool-call") && last.getAttribute("data-status") === "complete" && !document.querySelector("button.stop:not([hidden])");
    },
    null,
    { timeout: TIMEOUT },
  );
  return lastReply(page, "complete");
}

/** Message `id` as the page stored it in IndexedDB (read directly), once its status there is final: the page stores a reply a moment after it shows it. */
export async function storedFinal(page: Page, id: string): Promise<{ status: string; content: string }> {
  const read = () =>
    page.evaluate(async (id) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open("edgechat-demo");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      try {
        const records = await new Promise<{ message: { id: string; status: string; content: string } }[]>((resolve, reject) => {
          const request = db.transaction("messages").objectStore("messages").getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        const message = records.find((r) => r.message.id === id)?.message;
        return message && { status: message.status, content: message.content };
      } finally {
        db.close();
      }
    }, id);
  for (const started = Date.now(); Date.now() - started < TIMEOUT; await new Promise((r) => setTimeout(r, 50))) {
    const message = await read();
    if (message && message.status !== "streaming") return message;
  }
  throw new Error(`message ${id} was not stored with a final status`);
}
