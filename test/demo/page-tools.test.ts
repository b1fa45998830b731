// The page's tools (issue 18) in real Chromium, against the demo's own Worker and simulated model (demo/serve.mjs,
// as `npm run demo` starts it): a question the simulator answers with a call to one of the page's tools — its row
// shows the call as it is written, then its result, then the answer streams, written from that result. local_time
// reads the browser's clock and time zone (the context's is set to one with a half-hour offset); image_size the
// image attached; copy_to_clipboard waits for Allow or Deny, after a reload and in another tab too, and runs once.
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodePng } from "./helpers/png.ts";
import { describeInChromium } from "./page-helpers/browser.ts";
import { type DemoInChromium, startDemoInChromium } from "./page-helpers/demo-browser.ts";
import { matchScreenshot } from "./page-helpers/screenshots.ts";
import { answer, COMPLETIONS, lastReply, MESSAGES, newChat, ready, send, TIMEOUT } from "./page-helpers/demo-page.ts";

const ZONE = "Australia/Adelaide"; // UTC+09:30, or +10:30 in summer
const ROW = ".tool-call";
const row = (name: string) => `${MESSAGES} ${ROW}[data-name="${name}"]`;

/** A call's result as its row shows it whole: the folded text when long, else the inline one. */
const resultOf = (p: Page, name: string) =>
  p.$eval(row(name), (el) => (el.querySelector(".tool-result pre") ?? el.querySelector(".tool-result code"))?.textContent ?? "");

/** The page's clock, as local_time formats it, in minutes since midnight. */
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

describeInChromium("the page's tools in Chromium", { timeout: 90_000 }, () => {
  let run: DemoInChromium;
  let page: Page;

  /** Records, on every change of the message list, each call row's state and arguments and whether an answer has text. */
  const record = (p: Page) =>
    p.evaluate(() => {
      const w = window as unknown as { __timeline: { rows: { name: string; state: string; args: string }[]; answer: string }[] };
      w.__timeline = [];
      const list = document.querySelector(".messages-inner")!;
      const snap = () => {
        const replies = Array.from(list.querySelectorAll('.message[data-id][data-role="assistant"]'));
        const last = replies[replies.length - 1];
        w.__timeline.push({
          rows: Array.from(list.querySelectorAll(".tool-call")).map((r) => ({
            name: r.getAttribute("data-name") ?? "",
            state: r.getAttribute("data-state") ?? "",
            args: r.querySelector(".tool-args")?.textContent ?? "",
          })),
          answer: last && !last.querySelector(".tool-call") ? (last.querySelector(".message-body")?.textContent ?? "") : "",
        });
      };
      new MutationObserver(snap).observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
    });
  const timeline = (p: Page) =>
    p.evaluate(() => (window as unknown as { __timeline: { rows: { name: string; state: string; args: string }[]; answer: string }[] }).__timeline);

  beforeAll(async () => {
    // Slow enough that a call's arguments take several frames to arrive (they are shown as they grow).
    run = await startDemoInChromium({ tokensPerSecond: 400, context: { timezoneId: ZONE } });
    await run.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(run.url).origin });
    // Counts what reaches the clipboard, in each page: a tool that runs twice would write twice.
    await run.context.addInitScript(() => {
      const w = window as unknown as { __writes: string[] };
      w.__writes = [];
      const clipboard = navigator.clipboard;
      if (!clipboard) return; // about:blank, before the page loads: not a secure context
      const write = clipboard.writeText.bind(clipboard);
      clipboard.writeText = (text: string) => {
        w.__writes.push(text);
        return write(text);
      };
    });
    page = await run.open();
  });

  afterAll(() => run?.close());

  it("\"What time is it?\": a local_time row, then its result, then an answer with the page's time and time zone", async () => {
    await record(page);
    await send(page, "What time is it?");
    const said = await answer(page);
    const result = JSON.parse(await resultOf(page, "local_time")) as { time: string; date: string; timeZone: string; utcOffset: string };
    expect(result.timeZone).toBe(ZONE);
    expect(result.utcOffset).toMatch(/^\+(09|10):30$/);
    const now = await page.evaluate(() => new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date()));
    expect(Math.abs(minutes(now) - minutes(result.time)) % (24 * 60)).toBeLessThanOrEqual(1);
    expect(said).toContain(`It is ${result.time} on ${result.date} in ${ZONE} (UTC${result.utcOffset}).`);
    expect(said).toContain("Simulated reply");

    // In order: the call (written, then run), its result, and only then the answer's text.
    const seen = await timeline(page);
    const firstRow = seen.findIndex((s) => s.rows.length > 0);
    const done = seen.findIndex((s) => s.rows[0]?.state === "done");
    const answered = seen.findIndex((s) => s.answer.includes("It is"));
    expect(firstRow).toBeGreaterThanOrEqual(0);
    expect(seen[firstRow]!.rows[0]).toMatchObject({ name: "local_time" });
    expect(done).toBeGreaterThanOrEqual(firstRow);
    expect(answered).toBeGreaterThan(done);
    // The row: the tool's name, its arguments, its state in words; the call is stored as a message of its own.
    const shown = page.locator(row("local_time"));
    expect(await shown.locator(".tool-name").textContent()).toBe("local_time");
    expect(await shown.locator(".tool-args").textContent()).toBe("{}");
    expect(await shown.locator(".tool-state").textContent()).toBe("Done");
    expect(await page.locator(MESSAGES).evaluateAll((els) => els.map((el) => el.getAttribute("data-role")))).toEqual(["user", "assistant", "assistant"]);
  });

  it("\"How big is this image?\": image_size reads the attached image — its width × height, type and bytes", async () => {
    await newChat(page);
    const png = Buffer.from(encodePng({ width: 640, height: 480, colourType: 2, pixel: (x, y) => [(x * 255) / 640, (y * 255) / 480, 90], filter: () => 1 }));
    await page.setInputFiles("input.file-input", { name: "photo.png", mimeType: "image/png", buffer: png });
    await page.locator(".attachment-size").waitFor({ timeout: TIMEOUT });
    await send(page, "How big is this image?");
    const said = await answer(page);
    expect(JSON.parse(await resultOf(page, "image_size"))).toEqual({ width: 640, height: 480, bytes: png.length, type: "image/png" });
    expect(said).toContain(`The image is 640 × 480 px (image/png, ${png.length.toLocaleString("en-US")} bytes).`);
    // The README's picture: a call done, its answer, and a call that waits for the user.
    await send(page, 'Copy "640 × 480" to my clipboard');
    await page.waitForSelector(`${row("copy_to_clipboard")}[data-state="approval"] button[aria-label="Allow copy_to_clipboard"]`, { timeout: TIMEOUT });
    await page.waitForFunction(() => document.querySelector(".conversation.active .conversation-meta")?.textContent?.includes("5 messages"), null, { timeout: TIMEOUT });
    await page.mouse.move(0, 0);
    await matchScreenshot(page, "09-tools", { ignore: [page.locator(".conversation-meta")] });

    // Without an image, the tool's error goes back to the model, which says so.
    await newChat(page);
    await send(page, "How big is the image?");
    const none = await answer(page);
    expect(await page.getAttribute(row("image_size"), "data-state")).toBe("error");
    expect(await page.textContent(`${row("image_size")} .tool-state`)).toBe("Failed");
    expect(await page.textContent(`${row("image_size")} .tool-result`)).toContain("No image is attached in this conversation");
    expect(none).toContain("image_size could not answer: No image is attached");
  });

  it("copy_to_clipboard waits for Allow or Deny, still after a reload; Allow runs it once and the answer streams", async () => {
    await newChat(page);
    await record(page);
    const text = `Hello from the test — ${"a long line to copy, ".repeat(24)}the end`;
    await send(page, `Copy "${text}" to my clipboard`);
    await page.waitForSelector(`${row("copy_to_clipboard")}[data-state="approval"] button[aria-label="Allow copy_to_clipboard"]`, { timeout: TIMEOUT });
    // Its arguments were shown as they were written: the row grew.
    const written = (await timeline(page)).filter((s) => s.rows[0]?.state === "input").map((s) => s.rows[0]!.args.length);
    expect(new Set(written).size).toBeGreaterThan(2);
    expect(written).toEqual([...written].sort((a, b) => a - b));
    expect(await page.textContent(`${row("copy_to_clipboard")} .tool-state`)).toBe("Needs your approval");
    expect(await page.isVisible('button[aria-label="Deny copy_to_clipboard"]')).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
    // Nothing streams meanwhile: the turn is paused, and the composer is free.
    expect(await page.isVisible("button.stop")).toBe(false);

    await page.reload();
    await ready(page);
    await page.waitForSelector(`${row("copy_to_clipboard")}[data-state="approval"]`, { timeout: TIMEOUT });
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
    await page.click('button[aria-label="Allow copy_to_clipboard"]');
    expect(await answer(page)).toContain(`Copied ${[...text].length} characters to your clipboard.`);
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([text]);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
    expect(await page.getAttribute(row("copy_to_clipboard"), "data-state")).toBe("done");
    expect(await page.locator(`${ROW} button`).count()).toBe(0);
    // Long arguments are folded: their start on the row, the whole text on opening it.
    const args = page.locator(`${row("copy_to_clipboard")} .tool-args-folded details`);
    expect(await args.locator("summary").textContent()).toMatch(/^Arguments: \{"text":"Hello from the test/);
    await args.locator("summary").click();
    expect(JSON.parse((await args.locator("pre").textContent())!)).toEqual({ text });

    // Stored as done: a reload neither asks again nor runs it again.
    await page.reload();
    await ready(page);
    await page.waitForSelector(`${row("copy_to_clipboard")}[data-state="done"]`, { timeout: TIMEOUT });
    expect(await page.locator(`${ROW} button`).count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
  });

  it("Deny: the tool does not run, and the model is told (its answer says so)", async () => {
    await newChat(page);
    await send(page, "Copy 'nothing to see' to my clipboard");
    await page.click('button[aria-label="Deny copy_to_clipboard"]');
    expect(await answer(page)).toContain("You declined to let me run copy_to_clipboard, so I did not run it.");
    expect(await page.getAttribute(row("copy_to_clipboard"), "data-state")).toBe("refused");
    expect(await page.textContent(`${row("copy_to_clipboard")} .tool-state`)).toBe("Denied");
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
  });

  it("Stop while the next step is on its way: the step shows stopped, with Continue, still after a reload; Continue answers, the tool not run again", async () => {
    await newChat(page);
    // The step after the call is held before it reaches the Worker: Stop lands before the model's first word.
    let held: Route | undefined;
    await page.route(COMPLETIONS, (route) => {
      if (held || !route.request().postData()?.includes('"role":"tool"')) return route.continue();
      held = route;
    });
    try {
      await send(page, "Copy 'stop and go on' to my clipboard");
      await page.click('button[aria-label="Allow copy_to_clipboard"]', { timeout: TIMEOUT });
      await page.waitForFunction(() => document.querySelector("button.stop:not([hidden])"), null, { timeout: TIMEOUT });
      await expect.poll(() => held !== undefined, { timeout: TIMEOUT }).toBe(true);
      await page.click("button.stop");
      await held!.abort().catch(() => {});
    } finally {
      await page.unroute(COMPLETIONS);
    }
    // No empty reply: the step with its call is the last message, stopped, and offers Continue.
    const step = `${MESSAGES}[data-role="assistant"]`;
    await page.waitForSelector(`${step}[data-status="interrupted"] button:has-text("Continue")`, { timeout: TIMEOUT });
    expect(await page.locator(MESSAGES).count()).toBe(2);
    expect(await page.getAttribute(row("copy_to_clipboard"), "data-state")).toBe("done");
    await page.reload();
    await ready(page);
    await page.waitForSelector(`${step}[data-status="interrupted"] button:has-text("Continue")`, { timeout: TIMEOUT });
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);

    await page.click(`${step} button:has-text("Continue")`);
    expect(await answer(page)).toContain(`Copied ${"stop and go on".length} characters to your clipboard.`);
    expect(await page.locator(MESSAGES).evaluateAll((els) => els.map((el) => `${el.getAttribute("data-role")}:${el.getAttribute("data-status")}`))).toEqual([
      "user:complete",
      "assistant:complete",
      "assistant:complete",
    ]);
    // Run once, before the Stop: the reloaded document wrote nothing.
    expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("stop and go on");
  });

  it("a call waiting in one tab is answered from another; both show the answer, without a reload", async () => {
    await newChat(page);
    await send(page, "Copy 'from the other tab' to my clipboard");
    await page.waitForSelector(`${row("copy_to_clipboard")}[data-state="approval"]`, { timeout: TIMEOUT });
    const other = await run.open(page.url());
    try {
      await other.bringToFront();
      await other.click('button[aria-label="Allow copy_to_clipboard"]', { timeout: TIMEOUT });
      expect(await answer(other)).toContain("Copied 18 characters to your clipboard.");
      expect(await other.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual(["from the other tab"]);
      await page.bringToFront();
      expect(await answer(page)).toContain("Copied 18 characters to your clipboard.");
      expect(await page.getAttribute(row("copy_to_clipboard"), "data-state")).toBe("done");
      expect(await page.evaluate(() => (window as unknown as { __writes: string[] }).__writes)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("asked for JSON (a welcome chip), answers with a JSON block that parses", async () => {
    await newChat(page);
    await page.click('.welcome-tools button:has-text("as JSON")');
    await page.keyboard.press("Enter");
    await lastReply(page, "complete");
    const json = await page.locator(`${MESSAGES}[data-role="assistant"] pre code`).last().textContent();
    expect(JSON.parse(json!)).toMatchObject({ simulated: true, message: { text: "Give me this message's stats as JSON" } });
    expect(run.pageErrors).toEqual([]);
  });
});
