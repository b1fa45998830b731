// @vitest-environment node
// A call that waits for the user is stored (issue 18): in real Chromium with real IndexedDB and Web Locks, the turn
// pauses, a reload finds the call still waiting, and approving it there runs the tool once and finishes the turn.
// Two tabs that approve the same call at the same moment: the tool runs once, and the model is asked once. A tab
// closed while its tool runs: another tab stops the call once the closed tab's Web Lock is released.
import { join } from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeInChromium, launchChromium } from "../../demo/page-helpers/browser.ts";
import { bundlePage, openTestPage, pageCaller, pageRoutes } from "../../helpers/chromium-page.ts";
import { chunk, type RecordedRequest, replyEvents, sse, startSSE, startUpstream, type Upstream, usage } from "../../helpers/upstream.ts";
import type { ToolsApi } from "./page.ts";

const call = pageCaller<ToolsApi>("tools");
const ROUNDS = 6;

type Wire = { role: string; content: unknown; tool_call_id?: string };

describeInChromium("approval of a tool call (Chromium, IndexedDB, Web Locks)", () => {
  let upstream: Upstream;
  let browser: Browser;
  let context: BrowserContext;
  const pageErrors: string[] = [];
  const completions = () => upstream.requests.filter((r) => r.path === "/v1/openai/chat/completions");

  /** "mail <to>": a call to sendMail; "hang <name>": a call to hang; after a tool result: "done: <result>". */
  function answer(req: RecordedRequest, res: import("node:http").ServerResponse): void {
    const last = (req.body.messages as Wire[]).at(-1)!;
    startSSE(res);
    if (last.role === "tool") {
      for (const e of replyEvents([`done: ${String(last.content)}`], usage(20, 3))) res.write(e);
      return void res.end();
    }
    const [verb, to] = String(last.content).split(" ") as [string, string];
    const [name, args] = verb === "hang" ? ["hang", JSON.stringify({ name: to })] : ["sendMail", JSON.stringify({ to, body: "Hello" })];
    res.write(sse(chunk({ role: "assistant", content: "" })));
    res.write(sse(chunk({ tool_calls: [{ index: 0, id: `call_${to}`, type: "function", function: { name, arguments: "" } }] })));
    for (let i = 0; i < args.length; i += 5) res.write(sse(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 5) } }] })));
    res.write(sse(chunk({}, { finish_reason: "tool_calls", usage: usage(10, 8) })));
    res.end(sse("[DONE]"));
  }

  const openPage = () => openTestPage(context, `${upstream.origin}/`, pageErrors);

  beforeAll(async () => {
    const [script, up, launched] = await Promise.all([bundlePage(join(import.meta.dirname, "page.ts")), startUpstream(), launchChromium()]);
    [upstream, browser] = [up, launched];
    upstream.handle(
      pageRoutes("edgechat tools", script, (req, res) => {
        if (req.path === "/v1/openai/chat/completions" && req.method === "POST") return answer(req, res);
        res.writeHead(404).end();
      }),
    );
    context = await browser.newContext();
  });

  afterAll(async () => {
    await browser?.close();
    await upstream?.close();
  });

  it("the turn pauses, a reload finds the call waiting, and approving it there runs the tool once and finishes", async () => {
    const page = await openPage();
    const id = `reload-${Date.now()}`;
    await call(page, "create", id);
    expect(await call(page, "send", "mail ann@example.org")).toBe("complete: ");
    expect(await call(page, "calls")).toEqual([{ id: "call_ann@example.org", state: "approval" }]);
    expect(await call(page, "runs", "ann@example.org")).toBe(0);

    await page.reload();
    await page.waitForFunction(() => "__ready" in window);
    await call(page, "open", id);
    expect(await call(page, "calls")).toEqual([{ id: "call_ann@example.org", state: "approval" }]);
    expect(await call(page, "approve", "call_ann@example.org", true)).toBe("complete: done: sent to ann@example.org");
    expect(await call(page, "runs", "ann@example.org")).toBe(1);
    expect(await call(page, "calls")).toEqual([{ id: "call_ann@example.org", state: "done", result: "sent to ann@example.org" }]);
    const last = completions().at(-1)!.body.messages as Wire[];
    expect(last.slice(-2).map((m) => m.role)).toEqual(["assistant", "tool"]);

    // Opened again: the history is what was stored, and a refusal elsewhere is told to the model.
    await page.reload();
    await page.waitForFunction(() => "__ready" in window);
    await call(page, "open", id);
    expect(await call(page, "send", "mail bob@example.org")).toBe("complete: ");
    expect(await call(page, "approve", "call_bob@example.org", false)).toBe("complete: done: The user refused to run this call.");
    expect(await call(page, "runs", "bob@example.org")).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it(`two tabs approve the same call at the same moment, ${ROUNDS} rounds: the tool runs once, the model is asked once`, async () => {
    const [a, b] = await Promise.all([openPage(), openPage()]);
    const id = `race-${Date.now()}`;
    await call(a, "create", id);
    await call(b, "open", id);
    for (let round = 0; round < ROUNDS; round++) {
      const to = `r${round}-${Date.now()}@example.org`;
      expect(await call(a, "send", `mail ${to}`)).toBe("complete: ");
      // b follows a's turn through the store.
      await expect.poll(() => call(b, "calls").then((c) => c.at(-1)?.state), { timeout: 5000 }).toBe("approval");
      const before = completions().length;
      await call(a, "arm", `call_${to}`);
      await call(b, "arm", `call_${to}`);
      await call(a, "go");
      const outcomes = await Promise.all([call(a, "settle"), call(b, "settle")]);
      // One tab ran it; the other found it answered, under the lock, and was told so.
      expect(outcomes.filter((o) => o === `complete: done: sent to ${to}`), outcomes.join(" | ")).toHaveLength(1);
      expect(outcomes.filter((o) => o.includes("waits for approval")), outcomes.join(" | ")).toHaveLength(1);
      expect(await call(a, "runs", to)).toBe(1);
      expect(completions().length - before).toBe(1);
      for (const page of [a, b]) await expect.poll(() => call(page, "last"), { timeout: 5000 }).toBe(`complete: done: sent to ${to}`);
    }
    expect(pageErrors).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it("a tab closed while its tool runs: a tab open meanwhile stops the call once the tab is gone (its Web Lock released), and continues; the tool ran once", async () => {
    const [a, b] = await Promise.all([openPage(), openPage()]);
    const id = `closed-${Date.now()}`;
    const name = `h${Date.now()}`;
    await call(a, "create", id);
    await call(b, "open", id);
    await call(a, "start", `hang ${name}`);
    await expect.poll(() => call(b, "runs", name), { timeout: 5000 }).toBe(1);
    await expect.poll(() => call(b, "calls").then((c) => c.at(-1)?.state), { timeout: 5000 }).toBe("running");
    // Its writer is alive: left alone.
    await new Promise((r) => setTimeout(r, 300));
    expect(await call(b, "last")).toBe("complete: ");

    await a.close(); // the browser releases its Web Lock; the tool's promise goes with the page
    const stopped = "Stopped: the page or process running it went away.";
    await expect.poll(() => call(b, "last"), { timeout: 5000 }).toBe("interrupted: ");
    expect(await call(b, "calls")).toEqual([{ id: `call_${name}`, state: "error", result: stopped }]);
    const before = completions().length;
    expect(await call(b, "continue")).toBe(`complete: done: ${stopped}`);
    expect(completions().length - before).toBe(1);
    expect(await call(b, "runs", name)).toBe(1);

    // Stored so: a page opened now shows the same, and finds nothing left to stop.
    const c = await openPage();
    await call(c, "open", id);
    expect(await call(c, "calls")).toEqual([{ id: `call_${name}`, state: "error", result: stopped }]);
    expect(await call(c, "last")).toBe(`complete: done: ${stopped}`);
    expect(pageErrors).toEqual([]);
    await Promise.all([b.close(), c.close()]);
  });
});
