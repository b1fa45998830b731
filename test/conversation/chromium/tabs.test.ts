// @vitest-environment node
// One conversation, several tabs, in real Chromium (Debian's, through playwright-core) with real IndexedDB, Web Locks
// and BroadcastChannel: the promises of "a turn is one critical section". Two tabs send at the same moment for ten
// rounds; a tab that stopped following still sends with the whole history; a tab closes mid-stream while others have
// the conversation open (and the converse: it finishes). Without Web Locks, two Conversations in one page still never
// interleave turns, and across two tabs nothing is lost (all that is promised there). The page (page.ts) is bundled
// with vite from src/ and served, with a DeepInfra-style SSE upstream, from one node:http server on 127.0.0.1.
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AssistantMessage, Message } from "../../../src/messages/types.ts";
import { describeInChromium, launchChromium } from "../../demo/page-helpers/browser.ts";
import { bundlePage, openTestPage, pageCaller, pageRoutes } from "../../helpers/chromium-page.ts";
import { chunk, type RecordedRequest, replyEvents, sse, startSSE, startUpstream, type Upstream, usage, wait } from "../../helpers/upstream.ts";
import type { Outcome, TabsApi } from "./page.ts";

const call = pageCaller<TabsApi>("tabs");
const SYSTEM = "You answer in one line.";
const ROUNDS = 10;
/** Between two events of a reply: an answer (role, 6 parts, finish, [DONE]) takes ~350 ms. */
const EVENT_GAP = 40;
const COST = 0.25; // exact in binary: sums compare exactly

type Wire = { role: string; content: unknown };
/** A reply the upstream holds open ("hold…" messages): a word every EVENT_GAP ms until released or the page goes. */
interface Held {
  sent: string[];
  closed: boolean;
  finished: boolean;
  release(): void;
}

describeInChromium("one conversation in several tabs (Chromium, IndexedDB, Web Locks)", () => {
  let upstream: Upstream;
  let browser: Browser;
  let context: BrowserContext;
  let reader: Page;
  const held = new Map<string, Held>();
  const pageErrors: string[] = [];

  /** The last user message of a request: the question it asks. */
  const question = (r: RecordedRequest) => String((r.body.messages as Wire[]).at(-1)?.content);
  const completions = () => upstream.requests.filter((r) => r.path === "/v1/openai/chat/completions");

  async function answer(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const messages = req.body.messages as Wire[];
    const text = question(req);
    let closed = false;
    void req.closed.then(() => (closed = true));
    startSSE(res);
    if (text.startsWith("hold")) {
      const hold: Held = { sent: [], closed: false, finished: false, release: () => {} };
      held.set(text, hold);
      void req.closed.then(() => (hold.closed = true));
      res.write(sse(chunk({ role: "assistant", content: "" })));
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (hold.closed) return void (clearInterval(timer), resolve());
          const word = `w${hold.sent.length} `;
          hold.sent.push(word);
          res.write(sse(chunk({ content: word })));
        }, EVENT_GAP);
        hold.release = () => void (clearInterval(timer), resolve());
      });
      if (hold.closed) return;
      for (const event of replyEvents([], usage(messages.length, hold.sent.length, COST)).slice(-2)) res.write(event);
      hold.finished = true;
      return void res.end();
    }
    // "answer to <the question>", a word at a time, over a few hundred ms.
    const parts = `answer to ${text}`.split(/(?<= )/);
    for (const event of replyEvents(parts, usage(messages.length, parts.length, COST))) {
      if (closed) return;
      res.write(event);
      await wait(EVENT_GAP);
    }
    res.end();
  }

  const openPage = (options: { withoutWebLocks?: boolean } = {}) =>
    // A browser without Web Locks: the store falls back to its in-page lock.
    openTestPage(context, `${upstream.origin}/`, pageErrors, options.withoutWebLocks ? () => delete (Navigator.prototype as { locks?: unknown }).locks : undefined);

  beforeAll(async () => {
    const [script, up, launched] = await Promise.all([bundlePage(join(import.meta.dirname, "page.ts")), startUpstream(), launchChromium()]);
    [upstream, browser] = [up, launched];
    upstream.handle(
      pageRoutes("edgechat tabs", script, (req, res) => {
        if (req.path === "/v1/openai/chat/completions" && req.method === "POST") return answer(req, res);
        res.writeHead(404).end();
      }),
    );
    context = await browser.newContext();
    reader = await openPage();
  });

  afterAll(async () => {
    for (const hold of held.values()) hold.release();
    await browser?.close();
    await upstream?.close();
  });

  /** What the reader tab finds in IndexedDB. */
  const stored = async (db: string, id: string) => (await call(reader, "stored", db, id)).messages;
  const lastOf = async (db: string, id: string) => (await stored(db, id)).at(-1);

  /**
   * One writer per turn, checked on what was stored and what was sent: user/assistant alternate, each reply is
   * the complete answer to the question right before it, every question asked was stored once, and each request
   * carried the whole stored transcript up to its question (after the system message).
   */
  function expectTurnsInOrder(transcript: Message[], asked: string[]): void {
    expect(transcript.map((m) => m.role)).toEqual(asked.flatMap(() => ["user", "assistant"]));
    const questions = transcript.filter((m) => m.role === "user").map((m) => m.content);
    expect([...questions].sort()).toEqual([...asked].sort());
    transcript.forEach((m, i) => {
      if (m.role !== "assistant") return;
      expect({ content: m.content, status: m.status }, `reply ${i}`).toEqual({ content: `answer to ${String(transcript[i - 1]!.content)}`, status: "complete" });
    });
    const wire = transcript.map(({ role, content }) => ({ role, content }));
    transcript.forEach((m, i) => {
      if (m.role !== "user") return;
      const sent = completions().filter((r) => question(r) === m.content);
      expect(sent, `requests asking "${String(m.content)}"`).toHaveLength(1);
      const messages = sent[0]!.body.messages as Wire[];
      expect(messages[0]).toEqual({ role: "system", content: SYSTEM });
      expect(messages.slice(1), `the request asking "${String(m.content)}" carried every earlier turn`).toEqual(wire.slice(0, i + 1));
    });
  }

  it(`two tabs send at the same moment, ${ROUNDS} rounds: turns never interleave, each request carries every earlier turn, both tabs follow`, async () => {
    const db = `rounds-${Date.now()}`;
    const id = "shared";
    const [a, b] = await Promise.all([openPage(), openPage()]);
    try {
      expect(await call(a, "hasLocks")).toBe(true);
      await call(a, "create", "a", db, id, SYSTEM);
      await call(b, "open", "b", db, id);
      const outcomes: Outcome[] = [];
      const asked: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const texts = [`round ${round} from A`, `round ${round} from B`];
        asked.push(...texts);
        await call(a, "arm", "a", texts[0]!);
        await call(b, "arm", "b", texts[1]!);
        // One BroadcastChannel message starts both sends: a real race for the lock, nothing serializes them.
        await call(reader, "go");
        const [fromA, fromB] = await Promise.all([call(a, "settle", "a"), call(b, "settle", "b")]);
        outcomes.push(...fromA, ...fromB);
      }

      for (const o of outcomes) {
        expect(o.error, o.text).toBeUndefined();
        expect({ status: o.status, content: o.content }, o.text).toEqual({ status: "complete", content: `answer to ${o.text}` });
        expect(o.states[0], o.text).toBe("queued");
        expect(o.states.slice(-2), o.text).toEqual(["streaming", "complete"]);
      }
      // The race was real: in some rounds one tab found the other holding the lock, and said so.
      const waited = outcomes.filter((o) => o.states.includes("waiting"));
      expect(waited.length).toBeGreaterThan(0);
      for (const o of waited) expect(o.states.slice(0, 2), o.text).toEqual(["queued", "waiting"]);

      const { messages: transcript, meta } = await call(reader, "stored", db, id);
      expect(transcript).toHaveLength(4 * ROUNDS);
      expect(meta?.messageCount).toBe(4 * ROUNDS);
      expectTurnsInOrder(transcript, asked);
      expect(completions().filter((r) => asked.includes(question(r)))).toHaveLength(2 * ROUNDS);

      // Both tabs show the stored transcript without a reload: each followed the other's turns.
      for (const [page, name] of [[a, "a"], [b, "b"]] as const) {
        await expect.poll(() => call(page, "messages", name), { timeout: 5000 }).toEqual(transcript);
      }
      // What was spent: every reply, counted once, known to both tabs.
      const spent = { promptTokens: 0, completionTokens: 0, cost: COST * 2 * ROUNDS };
      for (const r of completions().filter((r) => asked.includes(question(r)))) {
        spent.promptTokens += (r.body.messages as Wire[]).length;
        spent.completionTokens += `answer to ${question(r)}`.split(/(?<= )/).length;
      }
      expect(meta?.usage).toEqual(spent);
      for (const [page, name] of [[a, "a"], [b, "b"]] as const) {
        await expect.poll(() => call(page, "usage", name), { timeout: 5000 }).toEqual(spent);
      }
      console.log(`${ROUNDS} rounds of simultaneous sends in two tabs: ${waited.length} of ${outcomes.length} replies waited for the other tab's turn`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a tab that stopped following (close()) still sends with every turn the other tab stored meanwhile", async () => {
    const db = `unfollowed-${Date.now()}`;
    const id = "shared";
    const [a, b] = await Promise.all([openPage(), openPage()]);
    try {
      await call(a, "create", "a", db, id, SYSTEM);
      await call(b, "open", "b", db, id);
      await call(b, "close", "b");
      const asked = ["unfollowed 1 from A", "unfollowed 2 from A", "unfollowed 3 from B"];
      for (const text of asked.slice(0, 2)) {
        await call(a, "send", "a", text);
        await call(a, "settle", "a");
      }
      expect(await call(b, "messages", "b")).toEqual([]); // it did not follow
      await call(b, "send", "b", asked[2]!);
      const [outcome] = await call(b, "settle", "b");
      expect(outcome).toMatchObject({ status: "complete", content: `answer to ${asked[2]}` });
      const transcript = await stored(db, id);
      expectTurnsInOrder(transcript, asked);
      // Its turn read the store first: it now holds the whole transcript.
      expect(await call(b, "messages", "b")).toEqual(transcript);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  /**
   * Page `a` starts a reply the upstream holds open, with `c` following the conversation since before the send;
   * resolves once the store holds some of the reply's text.
   */
  async function streamingIn(a: Page, c: Page, db: string, id: string, text: string) {
    await call(a, "create", "a", db, id, SYSTEM);
    await call(c, "open", "c", db, id);
    await call(a, "send", "a", text);
    await expect.poll(async () => {
      const last = await lastOf(db, id);
      return last?.role === "assistant" && last.status === "streaming" && last.content.split(" ").length > 4;
    }, { timeout: 10_000, interval: 50 }).toBe(true);
    return held.get(text)!;
  }

  /**
   * Page `b` opens the conversation while `a` streams. It, and `c` (open since before the send), show the reply
   * streaming and follow its text; nobody marks it interrupted while `a` is alive.
   */
  async function watchesStreaming(b: Page, c: Page, db: string, id: string) {
    await call(b, "open", "b", db, id);
    const watchers = [[b, "b"], [c, "c"]] as const;
    const first = (await call(b, "messages", "b")).at(-1)!;
    expect(first).toMatchObject({ role: "assistant", status: "streaming" });
    // Over ~1 s the writer is alive: its reply stays streaming, in the store and in both watching tabs.
    for (let i = 0; i < 5; i++) {
      await wait(200);
      expect(await lastOf(db, id), `check ${i}`).toMatchObject({ id: first.id, status: "streaming" });
      for (const [page, name] of watchers) expect((await call(page, "messages", name)).at(-1), `${name}, check ${i}`).toMatchObject({ id: first.id, status: "streaming" });
    }
    // Both show the text growing as `a` writes it.
    for (const [page, name] of watchers) {
      const later = (await call(page, "messages", name)).at(-1)!;
      expect(String(later.content).length, name).toBeGreaterThan(String(first.content).length);
      expect(String(later.content).startsWith(String(first.content)), name).toBe(true);
      const streamed = (await call(page, "changes", name)).filter((c) => c.type === "update" && c.id === first.id && c.status === "streaming");
      expect(streamed.length, name).toBeGreaterThan(1);
    }
    return first.id;
  }

  it("a tab closed mid-stream while others have the conversation open: left streaming while it streams, interrupted once it is gone", async () => {
    const db = `closed-${Date.now()}`;
    const id = "story";
    const [a, b, c] = await Promise.all([openPage(), openPage(), openPage()]);
    try {
      const hold = await streamingIn(a, c, db, id, "hold: tell me a long story");
      const replyId = await watchesStreaming(b, c, db, id);

      const written = await lastOf(db, id);
      await a.close(); // the browser releases its Web Lock
      await expect.poll(() => hold.closed, { timeout: 5000 }).toBe(true);
      await expect.poll(async () => (await lastOf(db, id)) as Partial<AssistantMessage> | undefined, { timeout: 5000, interval: 50 }).toMatchObject({ status: "interrupted" });
      const interrupted = (await lastOf(db, id)) as AssistantMessage;
      // The text that had been written is kept: at least what was stored before the close, and no more than was sent.
      expect(interrupted.id).toBe(replyId);
      expect(interrupted.content.startsWith(String(written!.content))).toBe(true);
      expect(hold.sent.join("").startsWith(interrupted.content)).toBe(true);
      expect(hold.finished).toBe(false);
      // Both watching tabs show it, and said so.
      for (const [page, name] of [[b, "b"], [c, "c"]] as const) {
        await expect.poll(() => call(page, "messages", name).then((m) => m.at(-1)), { timeout: 5000 }).toEqual(interrupted);
        expect(await call(page, "changes", name), name).toContainEqual({ type: "update", id: replyId, role: "assistant", status: "interrupted", content: interrupted.content });
      }
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it("a tab finishes its reply while others have the conversation open: they show it complete, never interrupted", async () => {
    const db = `finished-${Date.now()}`;
    const id = "story";
    const [a, b, c] = await Promise.all([openPage(), openPage(), openPage()]);
    try {
      const hold = await streamingIn(a, c, db, id, "hold: a story that ends");
      const replyId = await watchesStreaming(b, c, db, id);

      hold.release();
      const [outcome] = await call(a, "settle", "a");
      const text = hold.sent.join("");
      expect(outcome).toMatchObject({ status: "complete", content: text });
      const complete = await lastOf(db, id);
      expect(complete).toMatchObject({ id: replyId, role: "assistant", status: "complete", content: text });
      const watchers = [[b, "b"], [c, "c"]] as const;
      for (const [page, name] of watchers) await expect.poll(() => call(page, "messages", name).then((m) => m.at(-1)), { timeout: 5000 }).toEqual(complete);
      // Once `a`'s turn has ended, the watchers settle what they saw streaming: the store says complete, so it stays.
      await wait(500);
      expect(await lastOf(db, id)).toEqual(complete);
      for (const [page, name] of [...watchers, [a, "a"] as const]) {
        expect((await call(page, "messages", name)).at(-1), name).toEqual(complete);
        expect((await call(page, "changes", name)).filter((c) => c.status === "interrupted" || c.status === "error"), name).toEqual([]);
      }
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it("without Web Locks: two Conversations on one store in a page still never interleave turns, and nothing is lost", async () => {
    const db = `no-locks-${Date.now()}`;
    const id = "fallback";
    const page = await openPage({ withoutWebLocks: true });
    try {
      expect(await call(page, "hasLocks")).toBe(false);
      await call(page, "create", "one", db, id, SYSTEM);
      await call(page, "open", "two", db, id);
      const asked: string[] = [];
      const outcomes: Outcome[] = [];
      for (let round = 0; round < 5; round++) {
        const texts = [`no locks, round ${round}, one`, `no locks, round ${round}, two`];
        asked.push(...texts);
        await call(page, "arm", "one", texts[0]!);
        await call(page, "arm", "two", texts[1]!);
        await call(page, "go");
        outcomes.push(...(await call(page, "settle", "one")), ...(await call(page, "settle", "two")));
      }
      for (const o of outcomes) expect({ status: o.status, content: o.content }, o.text).toEqual({ status: "complete", content: `answer to ${o.text}` });
      // The store's in-page lock was contended, and told the waiting turn.
      expect(outcomes.filter((o) => o.states.includes("waiting")).length).toBeGreaterThan(0);
      const transcript = (await call(page, "stored", db, id)).messages;
      expect(transcript).toHaveLength(4 * 5);
      expectTurnsInOrder(transcript, asked);
    } finally {
      await page.close();
    }
  });

  it("without Web Locks, two tabs: turns may interleave, but nothing is lost", async () => {
    const db = `no-locks-tabs-${Date.now()}`;
    const id = "fallback";
    const [p, q] = await Promise.all([openPage({ withoutWebLocks: true }), openPage({ withoutWebLocks: true })]);
    try {
      await call(p, "create", "p", db, id, SYSTEM);
      await call(q, "open", "q", db, id);
      const asked: string[] = [];
      for (let round = 0; round < 3; round++) {
        const texts = [`two tabs without locks, round ${round}, p`, `two tabs without locks, round ${round}, q`];
        await call(p, "arm", "p", texts[0]!);
        await call(q, "arm", "q", texts[1]!);
        await call(reader, "go");
        await Promise.all([call(p, "settle", "p"), call(q, "settle", "q")]);
        // And a send that starts while the other tab streams: it finds that reply `streaming`, with no lock to tell
        // whether its writer is alive.
        const overlapping = [`two tabs without locks, round ${round}, p streams`, `two tabs without locks, round ${round}, q meanwhile`];
        await call(p, "send", "p", overlapping[0]!);
        await wait(150);
        await call(q, "send", "q", overlapping[1]!);
        await Promise.all([call(p, "settle", "p"), call(q, "settle", "q")]);
        asked.push(...texts, ...overlapping);
      }
      // Without a lock, each tab may go on from the path it knew: branches, every message stored in one of them.
      const transcript = (await call(reader, "stored", db, id)).all as Message[];
      // Every question stored once, every reply stored once with all of its text.
      expect(transcript.filter((m) => m.role === "user").map((m) => m.content).sort()).toEqual([...asked].sort());
      expect(transcript.filter((m) => m.role === "assistant").map((m) => m.content).sort()).toEqual(asked.map((text) => `answer to ${text}`).sort());
      expect(new Set(transcript.map((m) => m.id)).size).toBe(transcript.length);
      const marked = (await call(q, "changes", "q")).filter((c) => c.type === "update" && c.status === "interrupted").length;
      console.log(`two tabs without Web Locks: ${marked} of p's replies were shown interrupted in q while p streamed them; none lost`);
    } finally {
      await Promise.all([p.close(), q.close()]);
    }
  });

  it("versions across tabs: a regeneration or a switch in one tab shows in the other; racing a send, 6 rounds, the path stays well formed", async () => {
    const db = `versions-${Date.now()}`;
    const id = "versions";
    const [a, b] = await Promise.all([openPage(), openPage()]);
    try {
      await call(a, "create", "a", db, id, SYSTEM);
      await call(b, "open", "b", db, id);
      await call(a, "send", "a", "first question");
      await call(a, "settle", "a");
      const original = (await call(a, "messages", "a"))[1]!.id;
      for (let i = 0; i < 2; i++) {
        await call(a, "regenerate", "a");
        expect((await call(a, "settle", "a"))[0]).toMatchObject({ status: "complete", content: "answer to first question" });
      }
      const newest = (await call(a, "messages", "a"))[1]!.id;
      // The other tab follows: the newest version is on its path, with all three versions.
      await expect.poll(async () => (await call(b, "messages", "b")).map((m) => m.id), { timeout: 5000 }).toEqual((await call(a, "messages", "a")).map((m) => m.id));
      const versions = await call(b, "versions", "b", newest);
      expect(versions.ids).toHaveLength(3);
      expect(versions).toMatchObject({ ids: [original, expect.any(String), newest], index: 2 });
      // A switch in b shows in a, and a's next turn goes on from it.
      await call(b, "switchTo", "b", original);
      await expect.poll(async () => (await call(a, "messages", "a"))[1]?.id, { timeout: 5000 }).toBe(original);
      await call(a, "send", "a", "second question");
      await call(a, "settle", "a");
      const after = await call(reader, "stored", db, id);
      expect(after.messages.map((m) => m.id).slice(0, 2)).toEqual([(await call(a, "messages", "a"))[0]!.id, original]);
      const wire = (completions().at(-1)!.body.messages as Wire[]).slice(1);
      expect(wire).toEqual(after.messages.slice(0, 3).map(({ role, content }) => ({ role, content })));

      // One writer per turn holds for versions: a regeneration in a and a send in b start at the same moment.
      for (let round = 0; round < 6; round++) {
        await call(a, "armRegenerate", "a");
        await call(b, "arm", "b", `race ${round}`);
        await call(reader, "go");
        const outcomes = [...(await call(a, "settle", "a")), ...(await call(b, "settle", "b"))];
        for (const o of outcomes) expect(o.status, `${o.text}: ${o.error}`).toBe("complete");
        const { messages: path, meta, all } = await call(reader, "stored", db, id);
        path.forEach((m, i) => {
          expect(m.role, `round ${round}, ${i}`).toBe(i % 2 ? "assistant" : "user");
          if (m.role === "assistant") expect(m.content).toBe(`answer to ${String(path[i - 1]!.content)}`);
        });
        expect(meta?.messageCount).toBe(all.length);
        // Every request carried the stored path up to its question, whichever turn won the race.
        for (const r of completions().slice(-2)) {
          const sent = (r.body.messages as Wire[]).slice(1);
          const byId = new Map(all.map((m) => [m.id, m]));
          const asked = all.filter((m) => m.role === "user" && m.content === sent.at(-1)!.content).at(-1)!;
          const line: Wire[] = [];
          for (let m: (typeof all)[number] | undefined = asked; m; m = m.parentId ? byId.get(m.parentId) : undefined) line.unshift({ role: m.role, content: m.content });
          expect(sent, `round ${round}: a request carried its path`).toEqual(line);
        }
      }
      await expect.poll(async () => (await call(a, "messages", "a")).map((m) => m.id), { timeout: 5000 }).toEqual((await call(reader, "stored", db, id)).messages.map((m) => m.id));
      await expect.poll(async () => (await call(b, "messages", "b")).map((m) => m.id), { timeout: 5000 }).toEqual((await call(reader, "stored", db, id)).messages.map((m) => m.id));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("logged no page errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
