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
