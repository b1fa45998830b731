// The demo page end to end in real Chromium, started exactly as `npm run demo` starts it (demo/serve.mjs: the
// Worker in workerd with the simulated model, and vite serving the page with /v1/openai proxied to it).
// The tests run in order on one page, like a user's session. Screenshots are compared with the committed ones in
// demo/screenshots/ (the README shows them; page-helpers/screenshots.ts: a pixel-difference threshold), and go to
// .ci-out/screenshots/; UPDATE_SCREENSHOTS=1 rewrites the committed ones instead, so a test run leaves git clean.
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodePng } from "./helpers/png.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { assertMatches, boxes, comparePngs, matchScreenshot } from "./page-helpers/screenshots.ts";
import {
  COMPLETIONS,
  focused,
  lastReply,
  MESSAGES,
  meterText,
  newChat,
  ready,
  regenerate,
  send,
  showsVersion,
  sidebarTitles,
  statuses,
  streamedCompletion,
  TIMEOUT,
} from "./page-helpers/demo-page.ts";

describeInChromium("the demo page in Chromium", { timeout: 60_000 }, () => {
  let run: DemoInChromium;
  let page: Page;
  const dialogs: string[] = [];

  // The list's relative times ("just now", "1 min ago") depend on how long the run took: not compared.
  const shot = (name: string, ignore: Locator[] = []) => matchScreenshot(page, name, { ignore: [page.locator(".conversation-meta"), ...ignore] });

  beforeAll(async () => {
    // Fast, so ordinary replies take milliseconds; /slow caps itself at 10 tokens/s whatever this says.
    run = await startDemoInChromium();
    // Any script that model output managed to run would call one of these.
    await run.context.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      w.__xss = false;
      for (const name of ["alert", "confirm", "prompt"] as const) {
        const original = window[name].bind(window);
        (window as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
          w.__xss = true;
          return (original as (...a: unknown[]) => unknown)(...args);
        };
      }
    });
    page = await run.open();
    page.on("dialog", (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
  });

  afterAll(() => run?.close());

  it("opens on an empty chat that says the model is simulated and lists its commands", async () => {
    expect(run.demo.mode).toBe("simulated");
    const banner = await page.textContent("#banner");
    expect(banner).toContain("Simulated model — no DeepInfra token set; replies are computed, not generated");
    const commands = await page.$$eval("#banner [data-command]", (els) => els.map((el) => el.getAttribute("data-command")));
    expect(commands).toEqual(["/help", "/ratelimit", "/context", "/error", "/slow", "/xss"]);
    expect(await page.isVisible("#empty-state")).toBe(true);
    expect(await meterText(page)).toMatch(/^0 \/ 32,768 tokens/);
    await shot("01-empty-state");
  });

  it("sends a message and renders the reply's markdown as elements; the meter and the list follow", async () => {
    await send(page, "Hello! What do you see in my message?");
    const text = await lastReply(page, "complete");
    expect(text).toContain("Simulated reply.");
    // The simulator's markdown (bold, code, a list) arrives as elements, not asterisks.
    const reply = page.locator('.message[data-role="assistant"]').last();
    expect(await reply.locator("strong").first().textContent()).toBe("Simulated reply.");
    expect(await reply.locator("code").count()).toBeGreaterThan(0);
    expect(await reply.locator("ul > li").count()).toBeGreaterThanOrEqual(3);
    expect(text).not.toContain("**");
    const meter = await meterText(page);
    expect(meter).not.toMatch(/^0 \//);
    expect(meter).toMatch(/\$0\.0\d+ so far/);
    await page.waitForFunction(() => document.querySelectorAll(".conversation").length === 1, null, { timeout: TIMEOUT });
    expect(await sidebarTitles(page)).toEqual(["Hello! What do you see in my message?"]);
    await shot("02-markdown-reply");
  });

  it("streams a reply as it arrives, stops it, and continues it", async () => {
    await newChat(page);
    await send(page, "/slow");
    // Partial text is on screen while the reply is still streaming (at 10 tokens/s, the 60 lines take minutes).
    const streaming = '.message[data-role="assistant"][data-status="streaming"] .message-body';
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes("Line 1 of 60"), streaming, { timeout: TIMEOUT });
    const partial = (await page.textContent(streaming)) ?? "";
    await page.waitForFunction(([sel, before]) => (document.querySelector(sel!)?.textContent?.length ?? 0) > before!.length, [streaming, partial] as const, {
      timeout: TIMEOUT,
    });
    expect(partial).not.toContain("That was all 60 lines");
    expect(await page.isVisible('button.stop[aria-label="Stop"]')).toBe(true);
    await shot("03-streaming", [page.locator("#messages")]); // how far the reply got varies from run to run

    await page.click('button.stop[aria-label="Stop"]');
    const stopped = await lastReply(page, "interrupted");
    expect(stopped).toContain("Stopped");
    expect(stopped).not.toContain("That was all 60 lines");
    const kept = await page.locator('.message[data-role="assistant"] .message-body').last().textContent();
    await page.waitForTimeout(400); // nothing more arrives after Stop
    expect(await page.locator('.message[data-role="assistant"] .message-body').last().textContent()).toBe(kept);
    expect(await page.isVisible('.message[data-role="assistant"] button[aria-label="Continue"]')).toBe(true);
  });

  it("finds the conversation again after a reload, with the stopped reply marked, and continues it", async () => {
    const before = await page.locator('.message[data-role="assistant"] .message-body').last().textContent();
    await page.reload();
    await ready(page);
    await page.waitForFunction(() => document.querySelectorAll(".conversation").length === 2, null, { timeout: TIMEOUT });
    expect(await sidebarTitles(page)).toEqual(["/slow", "Hello! What do you see in my message?"]);
    // The URL remembers the open conversation; the list opens the other one too.
    await page.waitForSelector('.message[data-role="assistant"][data-status="interrupted"]', { timeout: TIMEOUT });
    expect(await statuses(page)).toEqual(["user:complete", "assistant:interrupted"]);
    const stored = page.locator('.message[data-role="assistant"]').last();
    expect(await stored.locator(".message-body").textContent()).toBe(before);
    expect(await stored.locator(".status-notice").textContent()).toContain("Stopped");

    await stored.locator('button[aria-label="Continue"]').click();
    const continued = await lastReply(page, "complete");
    expect(continued.startsWith(before!)).toBe(true);
    expect(continued.length).toBeGreaterThan(before!.length);
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);

    await page.click('.conversation-open:has-text("Hello! What do you see")');
    await page.waitForFunction(() => document.querySelector("#chat-title")?.textContent?.startsWith("Hello!"), null, { timeout: TIMEOUT });
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);
  });

  it("picks the same reply up after a reload mid-reply (the Worker's relay): it streams on where it was, and Stop cancels it", async () => {
    await newChat(page);
    const requests: string[] = [];
    page.on("request", (r) => r.url().includes("/v1/openai/") && requests.push(`${r.method()} ${new URL(r.url()).pathname.replace(/generations\/.*/, "generations/…")}`));
    await send(page, "/slow");
    await page.waitForFunction(() => document.querySelector('.message[data-status="streaming"]')?.textContent?.includes("Line 1 of 60"), null, { timeout: TIMEOUT });
    const before = await page.textContent('.message[data-status="streaming"] .message-body');
    await page.reload(); // mid-reply: the page goes away with the reply half written
    await ready(page);
    // The same reply, re-attached to its generation: it goes on from where it was, with no second model call.
    await page.waitForFunction(() => document.querySelector('.message[data-status="streaming"]')?.textContent?.includes("Line 3 of 60"), null, { timeout: TIMEOUT });
    const after = await page.textContent('.message[data-status="streaming"] .message-body');
    expect(after!.startsWith(before!.slice(0, 100))).toBe(true);
    await page.click('button.stop[aria-label="Stop"]');
    expect(await lastReply(page, "interrupted")).toContain("Line 3 of 60");
    expect(requests.filter((r) => r === "POST /v1/openai/chat/completions")).toHaveLength(1);
    expect(requests).toContain("DELETE /v1/openai/generations/…");
    // Not a conversation of its own in the end: delete it, so the list below stays as it was.
    const item = page.locator(".conversation.active");
    await item.locator('button[aria-label="Delete"]').click();
    await item.locator('button[aria-label="Confirm delete"]').click();
    await page.waitForSelector("#empty-state:not([hidden])", { timeout: TIMEOUT });
  });

  it("attaches an image, downscales it in the browser, and the model reports the dimensions it received", async () => {
    await newChat(page);
    // Noise does not compress, so the browser's JPEG at the model's canvas size is smaller than this PNG and is sent.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 255;
    const png = encodePng({ width: 1200, height: 800, colourType: 2, pixel: (x) => [x < 600 ? 30 + (random() & 63) : 200 + (random() & 31), random(), 120], filter: () => 0 });
    await page.setInputFiles("input.file-input", { name: "noise.png", mimeType: "image/png", buffer: Buffer.from(png) });
    const size = page.locator(".attachment-size");
    await size.waitFor({ timeout: TIMEOUT });
    const sent = (await size.getAttribute("data-sent-size"))!;
    const [width, height] = sent.split(" × ").map(Number);
    expect(width).toBeLessThan(1200);
    expect(height).toBeLessThan(800);
    expect(await size.textContent()).toContain(`1200 × 800 → ${sent}`);
    expect(await page.getAttribute(".attachment img", "src")).toMatch(/^blob:/);
    await send(page, "What is in this picture?");
    const reply = await lastReply(page, "complete");
    expect(reply).toContain(`JPEG, ${width} × ${height} px`);
    expect(await page.getAttribute('.message[data-role="user"] .message-image img', "src")).toMatch(/^blob:/);
    expect(await page.textContent('.message[data-role="user"] figcaption')).toBe(sent);
    expect(await page.isVisible(".attachment-preview")).toBe(false);
    // One image costs tiles: the meter shows thousands of tokens now.
    expect(await meterText(page)).toMatch(/^\d,\d{3} \/ 32,768 tokens/);
    await page.waitForSelector('.conversation.active .conversation-title:text("What is in this picture?")', { timeout: TIMEOUT });
    await page.locator('.message[data-role="user"]').scrollIntoViewIfNeeded();
    await shot("04-image-message");
  });

  it("also takes an image by drag-and-drop and by paste, and the preview can be removed", async () => {
    const png = Buffer.from(encodePng({ width: 64, height: 40, colourType: 2, pixel: (x) => (x < 48 ? [0, 128, 128] : [255, 140, 0]) })).toString("base64");
    const deliver = (how: "drop" | "paste", name: string) =>
      page.evaluate(
        ([how, base64, name]) => {
          const bytes = Uint8Array.from(atob(base64!), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], name!, { type: "image/png" }));
          if (how === "drop") {
            document.body.dispatchEvent(new DragEvent("dragenter", { bubbles: true, dataTransfer: data }));
            document.body.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: data }));
          } else {
            document.querySelector(".composer-input")!.dispatchEvent(new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: data }));
          }
        },
        [how, png, name] as const,
      );
    await deliver("drop", "dropped.png");
    await page.waitForSelector('.attachment-name:text("dropped.png")', { timeout: TIMEOUT });
    expect(await page.isVisible("#drop-overlay")).toBe(false);
    expect(await page.textContent(".attachment-size")).toContain("64 × 40");
    await deliver("paste", "pasted.png"); // a newer image replaces the one waiting
    await page.waitForSelector('.attachment-name:text("pasted.png")', { timeout: TIMEOUT });
    await page.click('.attachment button[aria-label="Remove image"]');
    expect(await page.isVisible(".attachment-preview")).toBe(false);
    expect(await page.isDisabled("button.send")).toBe(true);
  });

  it("edits the last user message and regenerates the reply, each a second version", async () => {
    await page.click('.message[data-role="user"] button[aria-label="Edit"]');
    await page.fill(".edit-input", "Describe this picture in one word.");
    await page.click("text=Save & send");
    const edited = await lastReply(page, "complete");
    expect(edited).toContain("6 words");
    expect(edited).toContain(`JPEG`); // the image stayed with the edited message
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);
    expect(await page.textContent(`${MESSAGES}[data-role="user"] .version-position`)).toBe("2/2");
    expect(await regenerate(page)).toContain("6 words");
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);
    expect(await page.textContent(`${MESSAGES}[data-role="assistant"] .version-position`)).toBe("2/2");
  });

  it("explains errors in plain words: a failed stream, a rate limit with a countdown, a context overflow", async () => {
    await newChat(page);
    await send(page, "/error");
    const failed = await lastReply(page, "error");
    expect(failed).toContain("The model server failed");
    expect(failed).toContain("Simulated failure (/error)");
    await page.waitForSelector('.conversation.active .conversation-title:text("/error")', { timeout: TIMEOUT });
    await shot("05-error");

    await send(page, "/ratelimit");
    const notice = page.locator('.notice[data-kind="retry"]');
    await notice.waitFor({ timeout: TIMEOUT });
    expect(await notice.textContent()).toMatch(/^Rate limited — retrying in [1-3] s/);
    expect(await lastReply(page, "complete")).toContain("this retry went through");
    expect(await page.isVisible('.notice[data-kind="retry"]')).toBe(false);

    await send(page, "/context");
    const overflow = await lastReply(page, "error");
    expect(overflow).toContain("This conversation no longer fits; older turns were dropped");
    expect(overflow).toMatch(/against a limit of 32,768/);

    // No server at all: the client retries (the countdown says why), then the reply says so.
    await page.route("**/v1/openai/chat/completions", (route) => route.abort("connectionrefused"));
    try {
      await send(page, "Is anyone there?");
      await page.waitForSelector('.notice[data-kind="retry"]:has-text("Can\'t reach the server — retrying")', { timeout: TIMEOUT });
      expect(await lastReply(page, "error")).toContain("Can't reach the server");
    } finally {
      await page.unroute("**/v1/openai/chat/completions");
    }
  });

  it("leaves older turns out when the conversation outgrows the window, and says so", async () => {
    await newChat(page);
    // About 16,000 tokens each: two such turns do not fit the 90B model's 32,768-token window with 4,096 kept for the reply.
    const words = (seed: number) => Array.from({ length: 6_000 }, (_, i) => `word${(i * 7919 + seed) % 5000}`).join(" ");
    await page.fill(".composer-input", words(1));
    expect(await meterText(page)).toMatch(/^1\d,\d{3} \/ 32,768 tokens/); // the draft counts in the meter
    await page.keyboard.press("Enter");
    await lastReply(page, "complete");
    expect(await page.isVisible(".meter-dropped")).toBe(false);
    await send(page, words(2));
    const reply = await lastReply(page, "complete");
    expect(reply).toContain("**1 message**".replace(/\*/g, "")); // the simulator saw only the newest turn
    expect(await page.textContent(".meter-dropped")).toBe("1 older turn left out of the last request");

    // A single message larger than the whole window is refused before anything is sent.
    await send(page, words(3) + words(4) + words(5));
    expect(await lastReply(page, "error")).toContain("This message is too long for the model");
  });

  it("shows hostile markdown and HTML as inert text: nothing runs, loads, or links anywhere but http(s)", async () => {
    await newChat(page);
    await send(page, "/xss");
    const text = await lastReply(page, "complete");
    expect(text).toContain("<img src=x onerror=alert(1)>");
    expect(text).toContain("<script>alert(1)</script>");
    expect(text).toContain("[click me](javascript:alert(1))");
    await expectInert(page, dialogs);
    // The code block shows its script as text.
    expect(await page.locator('.message[data-role="assistant"] pre code').last().textContent()).toBe("<script>alert('inside a code block: text, never run')</script>");
  });

  it("renames and deletes conversations, and both survive a reload", async () => {
    const item = page.locator('.conversation:has-text("Hello! What do you see")');
    await item.hover();
    await item.locator('button[aria-label="Rename"]').click();
    await page.fill(".rename-input", "Renamed in the test");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => Array.from(document.querySelectorAll(".conversation-title")).some((el) => el.textContent === "Renamed in the test"), null, {
      timeout: TIMEOUT,
    });

    const slow = page.locator('.conversation:has-text("/slow")');
    await slow.hover();
    await slow.locator('button[aria-label="Delete"]').click();
    await slow.locator('button[aria-label="Confirm delete"]').click(); // no confirm() dialog: a second press
    await page.waitForFunction(() => !Array.from(document.querySelectorAll(".conversation-title")).some((el) => el.textContent === "/slow"), null, { timeout: TIMEOUT });

    await page.reload();
    await ready(page);
    await page.waitForSelector('.conversation-title:text("Renamed in the test")', { timeout: TIMEOUT });
    const titles = await sidebarTitles(page);
    expect(titles).toHaveLength(5);
    expect(titles).toContain("Renamed in the test");
    expect(titles).not.toContain("/slow");
    // Most recent first: the rename touched that conversation last.
    expect(titles[0]).toBe("Renamed in the test");
    expect(run.pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  it("works on a phone-sized screen and in dark mode", async () => {
    await page.click('.conversation-open:has-text("What is in this picture")');
    await page.waitForSelector('.message[data-role="user"] .message-image img', { timeout: TIMEOUT });
    await page.emulateMedia({ colorScheme: "dark" });
    await shot("06-dark");
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForTimeout(300);
    expect(await page.isVisible("#sidebar")).toBe(true); // off-canvas, not display:none
    const box = await page.locator("#sidebar").boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1);
    await page.click("#menu-button");
    await page.waitForTimeout(300);
    expect((await page.locator("#sidebar").boundingBox())!.x).toBeGreaterThanOrEqual(0);
    await page.emulateMedia({ colorScheme: "light" });
    await page.click("#scrim", { position: { x: 370, y: 400 } });
    await page.waitForTimeout(300);
    await shot("07-phone");
  });

  it("says storage is full in plain words, keeps the message, and saves it when the disk has room again", async () => {
    await page.setViewportSize({ width: 1280, height: 820 });
    await newChat(page);
    await send(page, "A first message, saved normally.");
    await lastReply(page, "complete");
    // A full disk, at the IndexedDB boundary: every write fails as the browser fails it.
    await page.evaluate(() => {
      const proto = IDBObjectStore.prototype as unknown as Record<string, unknown>;
      const w = window as unknown as { __idbWrites: Record<string, unknown> };
      w.__idbWrites = { put: proto.put, add: proto.add };
      for (const name of ["put", "add"]) {
        proto[name] = () => {
          throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
        };
      }
    });
    await send(page, "Precious words that must not be lost.");
    await page.waitForSelector('.notice:has-text("Storage is full")', { timeout: TIMEOUT });
    expect(await page.textContent("#notice")).toContain("Nothing on this page was lost");
    expect(await page.locator('.messages-inner > .message[data-role="user"]').last().textContent()).toContain("Precious words that must not be lost.");
    // Room again: "Retry saving" writes what was waiting.
    await page.evaluate(() => {
      const proto = IDBObjectStore.prototype as unknown as Record<string, unknown>;
      Object.assign(proto, (window as unknown as { __idbWrites: Record<string, unknown> }).__idbWrites);
    });
    await page.click('#notice button:has-text("Retry saving")');
    await page.waitForSelector("#notice", { state: "hidden", timeout: TIMEOUT });
    await page.reload();
    await ready(page);
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('.messages-inner > .message[data-role="user"]')).some((m) => m.textContent?.includes("Precious words that must not be lost.")),
      null,
      { timeout: TIMEOUT },
    );
  });

  it("renders a huge hostile reply inertly, without freezing the page", async () => {
    // ~1.8 MB of reply: handlers, javascript: links and raw HTML thousands of times, one 200 KB line, and
    // 400-deep nested lists and quotes, streamed in 400 deltas as DeepInfra would.
    const hostile = [
      "<img src=x onerror=alert(1)> [go](javascript:alert(1)) <script>alert(1)</script> **bold** `code`\n".repeat(6_000),
      "x".repeat(200_000),
      "\n\n",
      Array.from({ length: 400 }, (_, i) => `${"  ".repeat(i)}- level ${i} <b onclick=alert(1)>x</b>`).join("\n"),
      "\n\n",
      `${">".repeat(400)} deep quote [link](JaVaScRiPt:alert(1))\n`,
    ].join("");
    const deltas = Array.from({ length: 400 }, (_, i) => hostile.slice((i * hostile.length) / 400, ((i + 1) * hostile.length) / 400));
    const response = streamedCompletion(deltas, { prompt_tokens: 10, completion_tokens: 400, total_tokens: 410, estimated_cost: 0.0002 });
    await page.setViewportSize({ width: 1280, height: 820 });
    await page.route(COMPLETIONS, (route) => route.fulfill(response));
    try {
      await newChat(page);
      await send(page, "say something enormous");
      const text = await lastReply(page, "complete");
      expect(text.length).toBeGreaterThan(900_000);
      expect(text).toContain("<img src=x onerror=alert(1)>");
      // Still responsive: a click-sized task runs promptly after rendering all of it.
      const started = Date.now();
      expect(await page.evaluate(() => 1 + 1)).toBe(2);
      expect(Date.now() - started).toBeLessThan(5_000);
      await expectInert(page, dialogs);
    } finally {
      await page.unroute(COMPLETIONS);
    }
  });

  it("lists what another tab creates without a reload, and loads a long conversation's earlier messages on demand", async () => {
    const other = await run.open();
    try {
      await send(other, "Hello from the second tab");
      await lastReply(other, "complete");
      await page.waitForSelector('.conversation-title:text("Hello from the second tab")', { timeout: TIMEOUT });

      // 160 messages of ~2,000 tokens each: more than the model's window, so opening reads pages (of 50) only
      // until the window is full and leaves the oldest in the store.
      const words = "the quick brown fox jumps over a lazy dog while seven wizards quietly box jugs of liquor ";
      const messages = Array.from({ length: 160 }, (_, i) => ({
        id: `m${i + 1}`,
        createdAt: 1_764_000_000_000 + i * 1000,
        ...(i % 2 === 0
          ? { role: "user", content: `#${i + 1} ${words.repeat(90)}` }
          : { role: "assistant", content: `#${i + 1} noted.`, status: "complete" }),
      }));
      const document = { format: "edgechat.conversation", version: 1, id: "long-history", model: "meta-llama/Llama-3.2-90B-Vision-Instruct", title: "Long history", createdAt: 1_764_000_000_000, calibration: { text: 1, image: 1, samples: 0 }, messages };
      await other.evaluate(async (doc) => {
        // The page's own store module, as vite serves it. (A literal import() here would be rewritten by vitest.)
        type StoreModule = { openStore(onBlocked: () => void): { import(document: unknown): Promise<unknown> } };
        const load = new Function("url", "return import(url)") as (url: string) => Promise<StoreModule>;
        const { openStore } = await load("/src/store.ts");
        await openStore(() => {}).import(doc);
      }, document);
      await page.waitForSelector('.conversation-title:text("Long history")', { timeout: TIMEOUT });
    } finally {
      await other.close();
    }

    await page.click('.conversation-open:has-text("Long history")');
    const shown = () => page.$$eval(".messages-inner > .message", (els) => els.map((el) => el.querySelector(".message-main")?.textContent?.split(" ")[0] ?? ""));
    await page.waitForSelector(".load-older", { timeout: TIMEOUT });
    const first = await shown();
    expect(first.length).toBeGreaterThanOrEqual(50);
    expect(first.length).toBeLessThan(160);
    expect(first.at(-1)).toBe("#160");
    while (await page.locator(".load-older").count()) {
      const before = (await shown()).length;
      await page.click(".load-older");
      await page.waitForFunction((n) => document.querySelectorAll(".messages-inner > .message").length > n, before, { timeout: TIMEOUT });
    }
    expect(await shown()).toEqual(Array.from({ length: 160 }, (_, i) => `#${i + 1}`));
    expect(run.pageErrors).toEqual([]);
  });

  it("keeps every version of a reply: ‹ 3/3 › goes through them by mouse and keyboard, and a reload keeps the one chosen", async () => {
    await newChat(page);
    // Each request answers with its own text and price, so the versions can be told apart and the cost added up.
    let requests = 0;
    await page.route(COMPLETIONS, (route) => {
      const n = ++requests;
      return route.fulfill(streamedCompletion([`Version ${n}`, " of the reply."], { prompt_tokens: 20, completion_tokens: 6, total_tokens: 26, estimated_cost: 0.01 * n }));
    });
    const reply = `${MESSAGES}[data-role="assistant"]`;
    const versions = page.locator(`${reply} .versions`);
    try {
      await send(page, "Answer me three times");
      expect(await lastReply(page, "complete")).toContain("Version 1 of the reply.");
      expect(await versions.count()).toBe(0); // one version: nothing to switch
      expect(await regenerate(page)).toContain("Version 2 of the reply.");
      expect(await regenerate(page)).toContain("Version 3 of the reply.");
    } finally {
      await page.unroute(COMPLETIONS);
    }
    expect(await versions.locator(".version-position").textContent()).toBe("3/3");
    expect(await versions.getAttribute("aria-label")).toBe("Version 3 of 3");
    expect(await versions.getByRole("button", { name: "Next version" }).isDisabled()).toBe(true);
    expect(await page.textContent(".meter-cost")).toBe("$0.06 so far");

    await versions.getByRole("button", { name: "Previous version" }).click();
    await showsVersion(page, reply, "2/3", "Version 2 of the reply.");
    expect(await focused(page)).toBe("Previous version"); // on the version now shown, not lost with the one replaced
    await versions.getByRole("button", { name: "Previous version" }).click();
    await showsVersion(page, reply, "1/3", "Version 1 of the reply.");
    expect(await versions.getByRole("button", { name: "Previous version" }).isDisabled()).toBe(true);
    // "Previous" is disabled at the first version, so the focus went to "Next": Enter goes on from there.
    expect(await focused(page)).toBe("Next version");
    await page.keyboard.press("Enter");
    await showsVersion(page, reply, "2/3", "Version 2 of the reply.");
    expect(await focused(page)).toBe("Next version");
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);
    // What was spent is every version's, whichever one is shown.
    expect(await page.textContent(".meter-cost")).toBe("$0.06 so far");
    await shot("08-versions");

    await page.reload();
    await ready(page);
    await showsVersion(page, reply, "2/3", "Version 2 of the reply.");
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);
    expect(await page.textContent(".meter-cost")).toBe("$0.06 so far");
    expect(run.pageErrors).toEqual([]);
  });

  it("edits an older question as a new version with its own reply, and ‹ 1/2 › brings the original turns back", async () => {
    await newChat(page);
    await send(page, "One two three");
    expect(await lastReply(page, "complete")).toContain("Your last message: 3 words");
    await send(page, "Four five six seven");
    expect(await lastReply(page, "complete")).toContain("Your last message: 4 words");
    const original = await meterTokens(page);
    const first = page.locator(`${MESSAGES}[data-role="user"]`).first();
    await first.getByRole("button", { name: "Edit" }).click();
    await page.fill(".edit-input", "Edited: five words in all");
    await page.click("text=Save & send");
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, MESSAGES, { timeout: TIMEOUT });
    const edited = await lastReply(page, "complete");
    expect(edited).toContain("Your last message: 5 words");
    expect(edited).toContain("The conversation: 1 message"); // the reply saw the new version, not what followed the old one
    expect(await statuses(page)).toEqual(["user:complete", "assistant:complete"]);
    await showsVersion(page, `${MESSAGES}[data-role="user"]`, "2/2", "Edited: five words in all");
    // The meter follows the path shown: one turn now.
    const shorter = await meterTokens(page);
    expect(shorter).toBeLessThan(original);

    await first.getByRole("button", { name: "Previous version" }).click();
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 4, MESSAGES, { timeout: TIMEOUT });
    await showsVersion(page, `${MESSAGES}[data-role="user"]`, "1/2", "One two three");
    const texts = await page.$$eval(`${MESSAGES} .message-body`, (els) => els.map((el) => el.textContent ?? ""));
    expect(texts[2]).toBe("Four five six seven");
    expect(texts[3]).toContain("Your last message: 4 words");
    // Two turns again: about what it said before the edit (the edit's reply taught the token counter a little more).
    const back = await meterTokens(page);
    expect(back).toBeGreaterThan(shorter);
    expect(Math.abs(back - original) / original).toBeLessThan(0.1);
    expect(run.pageErrors).toEqual([]);
  });

  it("compares screenshots by their pixels: the same page matches, a changed colour or a moved element does not", async () => {
    await page.setViewportSize({ width: 1280, height: 820 });
    await page.emulateMedia({ colorScheme: "light" });
    await newChat(page);
    await page.mouse.move(0, 0);
    const shoot = () => page.screenshot({ animations: "disabled", caret: "hide" });
    // The list's relative times may turn from "just now" to "1 min ago" meanwhile: not compared, as in every shot.
    const times = await boxes([page.locator(".conversation-meta")]);
    const before = await shoot();
    const same = await comparePngs(run.browser, before, await shoot(), times);
    expect(same.changed).toBe(0);
    expect(() => assertMatches("self-test-same", same)).not.toThrow();
    // Text a shade darker (less than antialiasing moves a pixel): still the same picture.
    const darker = await page.addStyleTag({ content: ".welcome-lead { color: #585b66 !important; }" });
    expect((await comparePngs(run.browser, before, await shoot(), times)).changed).toBe(0);
    await darker.evaluate((el) => (el as Element).remove());
    // Another accent colour, or the welcome cards moved down by a few pixels: a visual change, caught.
    for (const change of ["--accent: #d0306a !important; --accent-strong: #b0204a !important;", ""]) {
      const style = await page.addStyleTag({ content: change ? `:root { ${change} }` : ".welcome-cards { margin-top: 6px; }" });
      const difference = await comparePngs(run.browser, before, await shoot(), times);
      expect(() => assertMatches("self-test-changed", difference)).toThrow(/differs from demo\/screenshots\/self-test-changed\.png/);
      await style.evaluate((el) => (el as Element).remove());
    }
  });
});

/** The meter's estimate of what the next request would carry, in tokens. */
async function meterTokens(page: Page): Promise<number> {
  const text = (await page.textContent(".meter-tokens")) ?? "";
  return Number(text.split(" / ")[0]!.replace(/,/g, ""));
}

/** Nothing that model output could smuggle in ran, loaded, linked anywhere but http(s), or covered the page. */
async function expectInert(page: Page, dialogs: string[]): Promise<void> {
  await page.waitForTimeout(300); // give anything that could fire (onerror, onload) a moment
  const audit = await page.evaluate(() => {
    const messages = document.querySelector("#messages")!;
    const all = Array.from(document.querySelectorAll("*"));
    return {
      xss: (window as unknown as { __xss: boolean }).__xss,
      handlers: all.flatMap((el) => Array.from(el.attributes).filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}[${a.name}]`)),
      scripts: messages.querySelectorAll("script").length,
      frames: document.querySelectorAll("iframe, object, embed").length,
      images: Array.from(messages.querySelectorAll("img")).map((img) => img.getAttribute("src")),
      svgs: Array.from(messages.querySelectorAll("svg")).filter((svg) => !svg.classList.contains("icon")).length,
      hrefs: Array.from(messages.querySelectorAll("a")).map((a) => a.getAttribute("href")),
      styled: Array.from(messages.querySelectorAll(".markdown [style]")).length,
      covered: document.elementFromPoint(innerWidth / 2, innerHeight / 2)?.closest("#messages, .composer-wrap, .topbar, .banner") !== null,
    };
  });
  expect(audit.xss).toBe(false);
  expect(dialogs).toEqual([]);
  expect(audit.handlers).toEqual([]);
  expect(audit.scripts).toBe(0);
  expect(audit.frames).toBe(0);
  expect(audit.images.every((src) => src?.startsWith("blob:"))).toBe(true);
  expect(audit.svgs).toBe(0);
  expect(audit.hrefs.every((href) => /^(https?:|mailto:)/.test(href ?? ""))).toBe(true);
  expect(audit.styled).toBe(0);
  expect(audit.covered).toBe(true);
}
