// The demo page checked by a real accessibility engine and used with the keyboard only, in real Chromium against
// the demo's own Worker and simulated model. axe-core (injected into the page) runs on the empty chat, a conversation
// with a reply and an image, an error, and the phone drawer, in light and in dark mode: no serious or critical
// violation; and on tool calls (done, folded, waiting for approval). The keyboard-only path: send, regenerate, stop,
// new chat, switch conversations, delete; Deny on a call that waits.
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodePng } from "./helpers/png.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { lastReply, MESSAGES, newChat, send, showsVersion, TIMEOUT } from "./page-helpers/demo-page.ts";
import { tabTo } from "./page-helpers/keyboard.ts";

const AXE = join(import.meta.dirname, "../../node_modules/axe-core/axe.min.js");

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's violations on the page as it is, in both colour schemes: those that are serious or critical. */
async function serious(page: Page, state: string): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const found: string[] = [];
  for (const scheme of ["light", "dark"] as const) {
    // Without motion: a message fading in would be measured half transparent.
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
    await page.mouse.move(0, 0);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
      const result = await axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
    });
    for (const v of violations as Violation[]) {
      if (v.impact === "serious" || v.impact === "critical") found.push(`${state}, ${scheme}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.join(", ")}`);
    }
  }
  await page.emulateMedia({ colorScheme: "light", reducedMotion: "no-preference" });
  return found;
}

describeInChromium("the demo page's accessibility", { timeout: 60_000 }, () => {
  let run: DemoInChromium;
  let page: Page;

  beforeAll(async () => {
    run = await startDemoInChromium();
    page = await run.open();
  });

  afterAll(() => run?.close());

  it("axe-core finds no serious or critical violation: empty chat, a reply with an image, an error, the phone drawer; light and dark", async () => {
    const found = await serious(page, "empty chat");

    const png = encodePng({ width: 640, height: 480, colourType: 2, pixel: (x, y) => [(x * 255) / 640, (y * 255) / 480, 90], filter: () => 1 });
    await page.setInputFiles("input.file-input", { name: "photo.png", mimeType: "image/png", buffer: Buffer.from(png) });
    await page.locator(".attachment-size").waitFor({ timeout: TIMEOUT });
    await send(page, "What is in this picture?");
    await lastReply(page, "complete");
    await page.waitForSelector(".message-image img", { timeout: TIMEOUT });
    found.push(...(await serious(page, "a reply and an image")));

    await send(page, "/error");
    await lastReply(page, "error");
    found.push(...(await serious(page, "an error")));

    const p = await run.phone();
    try {
      await send(p, "Hello from a phone");
      await lastReply(p, "complete");
      await p.click("#menu-button");
      await p.waitForFunction(() => document.getElementById("sidebar")!.getBoundingClientRect().left >= 0, null, { timeout: TIMEOUT });
      found.push(...(await serious(p, "the phone drawer")));
    } finally {
      await p.context().close();
    }
    expect(found).toEqual([]);
  });

  it("tool calls: a call done, one folded, one waiting with Allow and Deny — no serious violation; Deny is reached and pressed with the keyboard", async () => {
    await newChat(page);
    await send(page, "What time is it?");
    await page.waitForSelector('.tool-call[data-name="local_time"][data-state="done"]', { timeout: TIMEOUT });
    await lastReply(page, "complete");
    await send(page, `Copy "${"a long text to copy, ".repeat(6)}" to my clipboard`);
    await page.waitForSelector('.tool-call[data-state="approval"] button[aria-label="Deny copy_to_clipboard"]', { timeout: TIMEOUT });
    await page.click('.tool-call[data-state="approval"] .tool-args-folded summary');
    const found = await serious(page, "tool calls");
    expect(found).toEqual([]);

    // From the message box, backwards: the reply's actions, then Deny.
    await page.focus(".composer-input");
    await tabTo(page, 'button[aria-label="Deny copy_to_clipboard"]', "Shift+Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.tool-call[data-state="refused"]', { timeout: TIMEOUT });
    await page.waitForFunction(() => document.querySelector(".messages-inner > .message[data-id]:last-child")?.textContent?.includes("You declined"), null, { timeout: TIMEOUT });
    // The pressed button went with its row: the focus is back in the box, not lost on the page.
    await page.waitForFunction(() => document.activeElement?.classList.contains("composer-input"), null, { timeout: TIMEOUT });
  });

  it("goes the whole way with the keyboard only: send, regenerate, stop, new chat, switch conversations, delete", async () => {
    await newChat(page);
    const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.className ?? "");
    expect(await focused()).toBe("composer-input");

    // Send.
    await page.keyboard.type("Hello, by keyboard only");
    await page.keyboard.press("Enter");
    await lastReply(page, "complete");
    const first = (await page.getAttribute(".conversation.active", "data-id"))!;

    // Regenerate: Shift+Tab from the box reaches the newest reply's actions.
    await tabTo(page, `${MESSAGES}[data-role="assistant"]:last-child button[aria-label="Regenerate"]`, "Shift+Tab");
    await page.keyboard.press("Enter");
    await showsVersion(page, `${MESSAGES}[data-role="assistant"]:last-child`, "2/2", "Simulated reply.");
    await lastReply(page, "complete");

    // Stop: Tab from the box reaches Stop while a reply streams; the focus comes back to the box.
    await page.keyboard.type("/slow");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector('.message[data-status="streaming"]')?.textContent?.includes("Simulated reply."), null, { timeout: TIMEOUT });
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Stop");
    await page.keyboard.press("Enter");
    await lastReply(page, "interrupted");
    expect(await focused()).toBe("composer-input");

    // New chat.
    await tabTo(page, ".new-chat", "Shift+Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#empty-state:not([hidden])", { timeout: TIMEOUT });
    expect(await focused()).toBe("composer-input");
    await page.keyboard.type("A second conversation");
    await page.keyboard.press("Enter");
    await lastReply(page, "complete");
    const second = (await page.getAttribute(".conversation.active", "data-id"))!;

    // Switch conversations: the list's links, then straight back to typing.
    await tabTo(page, `.conversation-open[href="#${first}"]`, "Shift+Tab");
    await page.keyboard.press("Enter");
    await page.waitForFunction((id) => document.querySelector(".conversation.active")?.getAttribute("data-id") === id, first, { timeout: TIMEOUT });
    await page.waitForFunction(() => document.querySelector("#chat-title")?.textContent === "Hello, by keyboard only", null, { timeout: TIMEOUT });
    expect(await focused()).toBe("composer-input");

    // Delete the second one: press, confirm, and the focus lands on the conversation now in its place.
    await tabTo(page, `.conversation[data-id="${second}"] button[aria-label="Delete"]`, "Shift+Tab");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Confirm delete");
    await page.keyboard.press("Enter");
    await page.waitForFunction((id) => !document.querySelector(`.conversation[data-id="${id}"]`), second, { timeout: TIMEOUT });
    await page.waitForFunction(() => document.activeElement?.classList.contains("conversation-open"), null, { timeout: TIMEOUT });
    expect(run.pageErrors).toEqual([]);
  });
});
