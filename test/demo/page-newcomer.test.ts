// The demo page as a newcomer meets it (issue 16), in real Chromium against the demo's own Worker and simulated
// model, started as `npm run demo` starts it. One test per bug the issue lists, and one per rough edge: replies
// followed after images (and "Jump to latest" when scrolled up), a stopped reply's caret, the focus after the first
// send, the context meter (an image not sent yet, a draft over the window, the history after a refused message and a
// reload), /context in a new chat, the URL hash, the phone drawer, deleting by keyboard; then contrast, announcements,
// Regenerate on a refused message, the model picker, titles, code blocks' copy button, the top bar's height and a
// phone's chrome, the welcome cards. The tests run in order on one page, like a user's session.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodePng } from "./helpers/png.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { lastReply, MESSAGES, meterText, newChat, ready, send, TIMEOUT } from "./page-helpers/demo-page.ts";
import { tabStops, tabTo } from "./page-helpers/keyboard.ts";

/** About 16,000 tokens of text: two such turns do not fit the 90B model's 32,768-token window next to the reply's 4,096. */
const words = (seed: number, count = 6_000) => Array.from({ length: count }, (_, i) => `word${(i * 7919 + seed) % 5000}`).join(" ");

/** Smooth gradients: quick to encode here and to decode in the page, whatever their size. */
const gradient = (width: number, height: number) =>
  Buffer.from(encodePng({ width, height, colourType: 2, pixel: (x, y) => [(x * 255) / width, (y * 255) / height, 140], filter: () => 1 }));

describeInChromium("the demo page as a newcomer meets it", { timeout: 60_000 }, () => {
  let run: DemoInChromium;
  let page: Page;

  beforeAll(async () => {
    run = await startDemoInChromium();
    await run.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(run.url).origin });
    await run.context.addInitScript(() => {
      (window as unknown as { __xss: boolean }).__xss = false;
      window.alert = () => ((window as unknown as { __xss: boolean }).__xss = true);
    });
    page = await run.open();
  });

  afterAll(() => run?.close());

  it("keeps the focus in the message box after the first send of a new chat: the next keystrokes are not lost", async () => {
    await page.fill(".composer-input", "A first message");
    await page.keyboard.press("Enter");
    // Straight on, as a quick typist would, while the conversation is being created.
    await page.keyboard.type("and the next words");
    await lastReply(page, "complete");
    expect(await page.evaluate(() => document.activeElement?.className)).toBe("composer-input");
    expect(await page.inputValue(".composer-input")).toBe("and the next words");
    await page.fill(".composer-input", "");
  });

  it("follows new replies after images, opens a conversation with images at its bottom, and offers Jump to latest when scrolled up", async () => {
    await newChat(page);
    await send(page, "First, some text.");
    await lastReply(page, "complete");
    for (const [name, width, height] of [["big.png", 2400, 1800], ["small.png", 800, 600]] as const) {
      await page.setInputFiles("input.file-input", { name, mimeType: "image/png", buffer: gradient(width, height) });
      await page.locator(".attachment-size").waitFor({ timeout: TIMEOUT });
      await send(page, `A picture, ${width} × ${height}`);
      await lastReply(page, "complete");
      await expectAtBottom(page);
    }

    // Opened again (a reload): at the bottom once its images have loaded, not short of it.
    await page.reload();
    await ready(page);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 6, MESSAGES, { timeout: TIMEOUT });
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>(".message-image img")).slice(-1).every((img) => img.complete && img.naturalWidth > 0), null, {
      timeout: TIMEOUT,
    });
    await expectAtBottom(page);

    // Scrolled up while a reply streams: the view stays where the reader is, and says how to get back.
    await send(page, "/slow");
    const streaming = '.message[data-role="assistant"][data-status="streaming"] .message-body';
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes("Simulated reply."), streaming, { timeout: TIMEOUT });
    await expectAtBottom(page);
    expect(await page.isVisible("#jump-latest")).toBe(false);
    await page.mouse.move(640, 300);
    await page.mouse.wheel(0, -600);
    await page.waitForSelector("#jump-latest:visible", { timeout: TIMEOUT });
    const top = await scrollTop(page);
    const length = (await page.textContent(streaming))!.length;
    await page.waitForFunction(([sel, n]) => (document.querySelector(sel as string)?.textContent?.length ?? 0) > (n as number) + 20, [streaming, length] as const, { timeout: TIMEOUT });
    expect(Math.abs((await scrollTop(page)) - top)).toBeLessThanOrEqual(1);
    // Back to the newest text, by keyboard, and followed from there again.
    await page.focus("#jump-latest");
    await page.keyboard.press("Enter");
    await expectAtBottom(page);
    expect(await page.isVisible("#jump-latest")).toBe(false);
    const again = (await page.textContent(streaming))!.length;
    await page.waitForFunction(([sel, n]) => (document.querySelector(sel as string)?.textContent?.length ?? 0) > (n as number) + 20, [streaming, again] as const, { timeout: TIMEOUT });
    await expectAtBottom(page);
    await page.click("button.stop");
    await lastReply(page, "interrupted");
  });

  it("takes the blinking caret away from a reply that was stopped", async () => {
    // (The caret went with the reply already on the code this was filed against: kept as a regression test.)
    await newChat(page);
    await send(page, "/slow");
    await page.waitForSelector('.message[data-status="streaming"] .caret', { timeout: TIMEOUT });
    await page.keyboard.press("Escape");
    await lastReply(page, "interrupted");
    expect(await page.locator(".caret").count()).toBe(0);
  });

  it("counts an attached image that is not sent yet in the meter (~6,400 tokens for 800 × 600), and warns when the draft is over the window", async () => {
    await newChat(page);
    expect(await meterText(page)).toMatch(/^0 \/ 32,768 tokens/);
    await page.setInputFiles("input.file-input", { name: "photo.png", mimeType: "image/png", buffer: gradient(800, 600) });
    await page.locator(".attachment-size").waitFor({ timeout: TIMEOUT });
    // Four 560-px tiles at 1,601 tokens each, and the request's few tokens of template.
    expect(await meterTokens(page)).toBeGreaterThanOrEqual(6_404);
    expect(await meterTokens(page)).toBeLessThan(6_500);
    await page.fill(".composer-input", "What is in this picture?");
    expect(await meterTokens(page)).toBeGreaterThan(6_404);
    await page.click('.attachment button[aria-label="Remove image"]');
    expect(await meterTokens(page)).toBeLessThan(100);

    // About 49,000 tokens: more than the whole window. Said before it is sent, not in the normal state.
    await page.fill(".composer-input", words(3) + words(4) + words(5));
    expect(await page.getAttribute("#meter", "data-level")).toBe("over");
    expect(await page.isVisible(".meter-dropped")).toBe(true);
    expect(await page.textContent(".meter-dropped")).toBe("Too long to send: shorten it");
    expect(await meterTokens(page)).toBeGreaterThan(32_768);
    await page.fill(".composer-input", "");
    expect(await page.getAttribute("#meter", "data-level")).toBe("ok");
  });

  it("after a message refused as too long, and after a reload, the meter shows the history that still goes with the next message; the next message takes the refused one's place", async () => {
    await newChat(page);
    const topbar = await topbarHeight(page);
    await page.fill(".composer-input", words(1));
    await page.keyboard.press("Enter");
    await lastReply(page, "complete");
    await send(page, words(2));
    await lastReply(page, "complete");
    // The second request left the first turn out, and the meter says so — on the same line: the top bar keeps its height.
    expect(await page.textContent(".meter-dropped")).toBe("1 older turn left out of the last request");
    expect(await topbarHeight(page)).toBe(topbar);
    const history = await meterTokens(page);
    expect(history).toBeGreaterThan(12_000);

    await send(page, words(3) + words(4) + words(5));
    const refused = await lastReply(page, "error");
    expect(refused).toContain("This message is too long for the model");
    expect(refused).toContain("Nothing was sent");
    // Asking again cannot help: no Regenerate; Edit on the message can.
    const reply = page.locator(`${MESSAGES}[data-role="assistant"]`).last();
    expect(await reply.getByRole("button", { name: "Regenerate" }).count()).toBe(0);
    expect(await page.locator(`${MESSAGES}[data-role="user"]`).last().getByRole("button", { name: "Edit" }).count()).toBe(1);
    expect(await meterTokens(page)).toBe(history);

    await page.reload();
    await ready(page);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 6, MESSAGES, { timeout: TIMEOUT });
    expect(await meterTokens(page)).toBe(history);

    // The next message goes out with that history, in the refused one's place (its version 2/2).
    await page.fill(".composer-input", "A short question instead.");
    await page.keyboard.press("Enter");
    const question = page.locator(`${MESSAGES}[data-role="user"]`).last();
    await page.waitForFunction((sel) => {
      const all = document.querySelectorAll(sel);
      return all[all.length - 1]?.textContent?.includes("A short question instead.");
    }, `${MESSAGES}[data-role="user"]`, { timeout: TIMEOUT });
    const answer = await lastReply(page, "complete");
    expect(answer).toContain("The conversation: 3 messages");
    expect(await question.locator(".version-position").textContent()).toBe("2/2");
  });

  it("/context in a brand-new chat does not say older turns were dropped: there were none", async () => {
    await newChat(page);
    await send(page, "/context");
    const text = await lastReply(page, "error");
    expect(text).toContain("This message is too long for the model's context window");
    expect(text).toMatch(/against a limit of 32,768/);
    expect(text).not.toContain("older turns were dropped");
    expect(await page.locator(`${MESSAGES}[data-role="assistant"]`).last().getByRole("button", { name: "Regenerate" }).count()).toBe(0);
  });

  it("switches conversations by the URL's hash: a link, Back and Forward", async () => {
    const a = await create(page, "Conversation A");
    const b = await create(page, "Conversation B");
    await page.click(`.conversation-open[href="#${a}"]`);
    await showing(page, "Conversation A");
    expect(new URL(page.url()).hash).toBe(`#${a}`);
    await page.click(`.conversation-open[href="#${b}"]`);
    await showing(page, "Conversation B");
    await page.goBack();
    await showing(page, "Conversation A");
    await page.goForward();
    await showing(page, "Conversation B");
    // A link to a conversation, anywhere.
    await page.evaluate((id) => {
      const link = document.createElement("a");
      link.href = `#${id}`;
      document.body.append(link);
      link.click();
      link.remove();
    }, a);
    await showing(page, "Conversation A");
    // New chat is a step of its own: Back returns to the conversation.
    await page.click("button.new-chat");
    await page.waitForSelector("#empty-state:not([hidden])", { timeout: TIMEOUT });
    expect(new URL(page.url()).hash).toBe("");
    await page.goBack();
    await showing(page, "Conversation A");
  });

  it("deletes by keyboard: the confirm step keeps the focus and waits while focused, then the focus moves to the next conversation", async () => {
    const id = await create(page, "Delete me by keyboard");
    const next = await page.$$eval(".conversation", (els) => els.map((el) => el.getAttribute("data-id")));
    const after = next[next.indexOf(id) + 1];
    await page.focus(`.conversation[data-id="${id}"] .conversation-open`);
    await tabTo(page, `.conversation[data-id="${id}"] button[aria-label="Delete"]`);
    await page.keyboard.press("Enter");
    expect(await focusedLabel(page)).toBe("Confirm delete");
    expect(await page.evaluate((id) => document.activeElement?.closest("li")?.getAttribute("data-id"), id)).toBe(id);
    // Longer than the 4 s the confirm step used to last: it waits while its button has the focus.
    await page.waitForTimeout(4_500);
    expect(await focusedLabel(page)).toBe("Confirm delete");
    await page.keyboard.press("Enter");
    await page.waitForFunction((id) => !document.querySelector(`.conversation[data-id="${id}"]`), id, { timeout: TIMEOUT });
    await page.waitForFunction((id) => document.activeElement?.closest("li")?.getAttribute("data-id") === id, after, { timeout: TIMEOUT });
    expect(await page.evaluate(() => document.activeElement?.className)).toBe("conversation-open");
    // Escape leaves the confirm step.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await focusedLabel(page)).toBe("Delete");
    await page.keyboard.press("Enter");
    expect(await focusedLabel(page)).toBe("Confirm delete");
    await page.keyboard.press("Escape");
    expect(await focusedLabel(page)).toBe("Delete");
  });

  it("on a phone, the drawer takes the focus, says it is open, keeps Tab inside it, and Escape closes it", async () => {
    const p = await run.phone();
    try {
      await send(p, "Hello from a phone");
      await lastReply(p, "complete");
      const menu = p.locator("#menu-button");
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
      // Closed, the drawer is off screen and out of the Tab order.
      await menu.focus();
      expect(await tabStops(p, 12, "#sidebar")).toEqual([]);

      await menu.focus();
      await p.keyboard.press("Enter");
      expect(await menu.getAttribute("aria-expanded")).toBe("true");
      expect(await p.evaluate(() => document.getElementById("sidebar")!.contains(document.activeElement))).toBe(true);
      expect(await p.evaluate(() => document.getElementById("main")!.inert)).toBe(true);
      // Tab and Shift+Tab stay in the drawer: nothing behind the overlay is reached.
      expect(await tabStops(p, 12, "#main")).toEqual([]);
      expect(await tabStops(p, 12, "#main", "Shift+Tab")).toEqual([]);

      await p.keyboard.press("Escape");
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
      expect(await p.evaluate(() => document.activeElement?.id)).toBe("menu-button");
      expect(await p.evaluate(() => document.getElementById("main")!.inert)).toBe(false);
      await p.waitForFunction(() => document.getElementById("sidebar")!.getBoundingClientRect().right <= 1, null, { timeout: TIMEOUT });

      // Its close button and the scrim close it too.
      await menu.click();
      await p.click("#drawer-close");
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
      await menu.click();
      await p.click("#scrim", { position: { x: 370, y: 400 } });
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
    } finally {
      await p.context().close();
    }
  });

  it("secondary text (list dates, the composer's hint, a reply's usage line) has a contrast of at least 4.5:1, light and dark", async () => {
    await page.click(".conversation-open");
    await page.waitForSelector(".message-meta .usage", { timeout: TIMEOUT });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const ratios = await page.evaluate(() => {
        const rgb = (c: string) => c.match(/[\d.]+/g)!.map(Number);
        const luminance = ([r, g, b]: number[]) => {
          const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
          return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
        };
        const background = (el: Element | null): number[] => {
          for (; el; el = el.parentElement) {
            const c = rgb(getComputedStyle(el).backgroundColor);
            if (c.length < 4 || c[3]! > 0.5) return c;
          }
          return [255, 255, 255];
        };
        const ratio = (selector: string) => {
          const el = document.querySelector(selector)!;
          const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        };
        return { dates: ratio(".conversation-meta"), activeDates: ratio(".conversation.active .conversation-meta"), hint: ratio(".composer-hint"), usage: ratio(".message-meta .usage") };
      });
      for (const [what, ratio] of Object.entries(ratios)) expect(ratio, `${what} in ${scheme} mode`).toBeGreaterThanOrEqual(4.5);
    }
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("announces a reply once, when it ends, instead of every streamed chunk; the message list is not a live region", async () => {
    expect(await page.evaluate(() => document.querySelector("#messages")?.closest("[aria-live], [role=log], [role=status], [role=alert]"))).toBeNull();
    await page.evaluate(() => {
      const said: string[] = [];
      (window as unknown as { __said: string[] }).__said = said;
      const region = document.querySelector('[aria-live="polite"]#announcer')!;
      new MutationObserver(() => region.textContent && said.push(region.textContent)).observe(region, { childList: true, characterData: true, subtree: true });
    });
    await newChat(page);
    await send(page, "Please answer at length.");
    await lastReply(page, "complete");
    await page.waitForTimeout(200);
    const said = await page.evaluate(() => (window as unknown as { __said: string[] }).__said);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^Reply: Simulated reply\. No language model ran/);
    expect(said[0]).not.toContain("**");
    // Within the list, nothing is a live region either (a reply's status notice is read with the reply).
    expect(await page.locator("#messages [aria-live], #messages [role=alert], #messages [role=status]").count()).toBe(0);
  });

  it("says why the model picker is disabled in a conversation", async () => {
    expect(await page.isDisabled("#model-select")).toBe(true);
    const why = await page.evaluate(() => document.getElementById(document.getElementById("model-select")!.getAttribute("aria-describedby")!)?.textContent);
    expect(why).toBe("A conversation keeps the model it was started with. Start a new chat to pick another model.");
    expect(await page.getAttribute("#model-picker", "title")).toBe(why);
    await newChat(page);
    expect(await page.isDisabled("#model-select")).toBe(false);
  });

  it("shows conversation titles without raw markdown", async () => {
    await newChat(page);
    await send(page, "**Short** and _plain_ `title`");
    await lastReply(page, "complete");
    await page.waitForSelector('.conversation.active .conversation-title:text-is("Short and plain title")', { timeout: TIMEOUT });
    expect(await page.textContent("#chat-title")).toBe("Short and plain title");
    expect(await page.title()).toBe("Short and plain title · edgechat");
  });

  it("puts a keyboard-reachable Copy button on code blocks, which copies the code as text", async () => {
    await newChat(page);
    await send(page, "/xss");
    await lastReply(page, "complete");
    const copy = page.locator(`${MESSAGES}[data-role="assistant"] .code-block button.code-copy`);
    expect(await copy.count()).toBe(1);
    expect(await copy.getAttribute("aria-label")).toBe("Copy code");
    // Reached from the message box with Shift+Tab, pressed with Enter.
    await page.focus(".composer-input");
    await tabTo(page, `${MESSAGES}[data-role="assistant"] button.code-copy`, "Shift+Tab");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector(".code-copy")?.getAttribute("aria-label") === "Copied", null, { timeout: TIMEOUT });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("<script>alert('inside a code block: text, never run')</script>");
    expect(await page.evaluate(() => (window as unknown as { __xss: boolean }).__xss)).toBe(false);
  });

  it("keeps the top bar's height as cost and notices appear; on the welcome screen the cards and the banner don't repeat each other, and cards are never cut", async () => {
    await newChat(page);
    const empty = await topbarHeight(page);
    await send(page, "Hello again");
    await lastReply(page, "complete");
    expect(await page.textContent(".meter-cost")).toMatch(/^\$0\.0\d+ so far$/);
    expect(await topbarHeight(page)).toBe(empty);
    await page.fill(".composer-input", words(3) + words(4) + words(5));
    expect(await page.isVisible(".meter-dropped")).toBe(true);
    expect(await topbarHeight(page)).toBe(empty);
    await page.fill(".composer-input", "");

    await newChat(page);
    const shown = await page.evaluate(() => {
      const visible = (el: Element) => (el as HTMLElement).offsetParent !== null;
      return {
        chips: Array.from(document.querySelectorAll("#banner [data-command]")).filter(visible).map((el) => el.textContent),
        cards: Array.from(document.querySelectorAll(".welcome-card strong")).filter(visible).map((el) => el.textContent),
        cut: Array.from(document.querySelectorAll<HTMLElement>(".welcome-card span")).filter(
          (el) => el.scrollHeight > el.clientHeight + 1 || getComputedStyle(el).webkitLineClamp !== "none" || el.textContent!.trim().endsWith("…"),
        ).length,
      };
    });
    expect(shown.cards).toEqual(["/help", "/ratelimit", "/context", "/error", "/slow", "/xss"]);
    expect(shown.chips.filter((c) => shown.cards.includes(c))).toEqual([]);
    expect(shown.cut).toBe(0);
    // In a conversation, the banner offers the commands again.
    await page.click(".conversation-open");
    await page.waitForSelector("#banner [data-command]:visible", { timeout: TIMEOUT });
  });

  it("on a phone, the chrome is small and the welcome screen opens at its top", async () => {
    const p = await run.phone();
    try {
      const { chrome, top } = await p.evaluate(() => ({
        chrome: document.querySelector("#messages")!.getBoundingClientRect().top,
        top: document.querySelector("#messages")!.scrollTop,
      }));
      expect(chrome).toBeLessThanOrEqual(100);
      expect(top).toBe(0);
      expect(await p.evaluate(() => document.querySelector(".welcome-title")!.getBoundingClientRect().top)).toBeGreaterThan(0);
      await send(p, "Hello");
      await lastReply(p, "complete");
      expect(await p.evaluate(() => document.querySelector("#messages")!.getBoundingClientRect().top)).toBeLessThanOrEqual(100);
    } finally {
      await p.context().close();
    }
    expect(run.pageErrors).toEqual([]);
  });
});

async function scrollTop(page: Page): Promise<number> {
  return page.$eval("#messages", (el) => el.scrollTop);
}

/** The message list is scrolled to its end (within a pixel), allowing a moment for late layout (an image loading). */
async function expectAtBottom(page: Page): Promise<void> {
  const distance = () => page.$eval("#messages", (el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await page.waitForFunction(() => {
    const el = document.querySelector("#messages")!;
    return el.scrollHeight - el.scrollTop - el.clientHeight <= 1;
  }, null, { timeout: 3_000 }).catch(() => undefined);
  await page.waitForTimeout(250); // and it stays there: nothing that loads later pushes the reply down
  expect(await distance()).toBeLessThanOrEqual(1);
}

async function meterTokens(page: Page): Promise<number> {
  const text = (await page.textContent(".meter-tokens")) ?? "";
  return Number(text.split(" / ")[0]!.replace(/,/g, ""));
}

function topbarHeight(page: Page): Promise<number> {
  return page.$eval(".topbar", (el) => el.getBoundingClientRect().height);
}

function focusedLabel(page: Page): Promise<string | null | undefined> {
  return page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
}

/** A new conversation with one exchange; returns its id. */
async function create(page: Page, text: string): Promise<string> {
  await newChat(page);
  await send(page, text);
  await lastReply(page, "complete");
  await page.waitForSelector(`.conversation.active .conversation-title:text-is("${text}")`, { timeout: TIMEOUT });
  return (await page.getAttribute(".conversation.active", "data-id"))!;
}

/** Wait until the open conversation is the one titled `title`. */
async function showing(page: Page, title: string): Promise<void> {
  await page.waitForFunction(
    (title) => document.querySelector("#chat-title")?.textContent === title && document.querySelector(".conversation.active .conversation-title")?.textContent === title,
    title,
    { timeout: TIMEOUT },
  );
}
