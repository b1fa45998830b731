import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation, CONTINUE_PROMPT, type ConversationChange } from "../../src/conversation/conversation.ts";
import type { AssistantMessage, Message } from "../../src/messages/types.ts";
import { AuthenticationError, createClient, UserAbortError } from "../../src/index.ts";
import { StorageQuotaError } from "../../src/store/errors.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { ConversationStore } from "../../src/store/types.ts";
import { chunk, gate, json, MODEL, sse, startSSE, startUpstream, streamReply, type Upstream, usage, wait } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 0 });

/** A store that counts calls, and can be made to fail like a full disk. */
function instrumented(inner = createMemoryStore()) {
  const calls: Record<string, number> = {};
  const state = { full: false };
  const store = new Proxy(inner, {
    get(target, key: string) {
      const fn = (target as unknown as Record<string, unknown>)[key];
      if (typeof fn !== "function") return fn;
      return (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        if (state.full && ["appendMessage", "updateMessage"].includes(key)) {
          return Promise.reject(new StorageQuotaError({ cause: new DOMException("quota", "QuotaExceededError") }));
        }
        return (fn as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as ConversationStore;
  return { store, calls, state };
}

/** A stream of `n` deltas, `gap` ms apart, held open until the client disconnects or it ends. */
function slowStream(n: number, gap: number) {
  return async (req: { closed: Promise<void> }, res: import("node:http").ServerResponse) => {
    startSSE(res);
    let open = true;
    void req.closed.then(() => (open = false));
    res.write(sse(chunk({ role: "assistant", content: "" })));
    for (let i = 0; open && i < n; i++) {
      res.write(sse(chunk({ content: `w${i} ` })));
      await wait(gap);
    }
    if (open) res.end(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(10, n, 0.002) })) + sse("[DONE]"));
  };
}

const stored = async (store: ConversationStore, id: string): Promise<Message[]> => (await store.loadMessages(id, { limit: 1000 })).messages;

describe("Conversation with a store", () => {
  it("stores the user message before the request is sent, and the finished reply with usage and cost", async () => {
    const { store } = instrumented();
    const conv = await Conversation.create(store, { client: client(), model: MODEL, title: "Greetings" });
    let storedAtRequest: Message[] = [];
    upstream.handle(async (req, res) => {
      storedAtRequest = await stored(store, conv.id);
      return streamReply(["Hi", "!"], usage(7, 2, 0.0003))(req, res);
    });
    await conv.send("hello").done;
    expect(storedAtRequest.map((m) => [m.role, m.content])).toEqual([["user", "hello"]]);
    await conv.flush();
    const messages = await stored(store, conv.id);
    expect(messages[1]).toMatchObject({ role: "assistant", content: "Hi!", status: "complete", usage: usage(7, 2, 0.0003) });
    const meta = await store.get(conv.id);
    expect(meta).toMatchObject({ title: "Greetings", messageCount: 2, usage: { promptTokens: 7, completionTokens: 2, cost: 0.0003 } });
    expect(meta?.calibration?.samples).toBe(1);
  });

  it("writes a streaming reply a few times a second, not once per token", async () => {
    const { store, calls } = instrumented();
    upstream.handle(slowStream(60, 15));
    const conv = await Conversation.create(store, { client: client(), model: MODEL });
    const started = Date.now();
    await conv.send("count slowly").done;
    await conv.flush();
    const elapsed = Date.now() - started;
    // One write per 250 ms window at most, plus the final write.
    expect(calls.updateMessage).toBeGreaterThanOrEqual(2);
    expect(calls.updateMessage).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    expect(calls.updateMessage).toBeLessThan(60);
    expect((await stored(store, conv.id))[1]).toMatchObject({ status: "complete", content: Array.from({ length: 60 }, (_, i) => `w${i} `).join("") });
  });

  it("a reply left streaming by a page that crashed (nobody holds the lock) is stored interrupted on open, its text kept", async () => {
    const { store } = instrumented();
    const { id } = await store.create({ model: MODEL });
    await store.appendMessage(id, { id: "q", role: "user", content: "tell me a long story", createdAt: 1 });
    await store.appendMessage(id, { id: "r", role: "assistant", content: "w0 w1 w2 ", status: "streaming", createdAt: 2 });
    const reopened = await Conversation.open(store, id, { client: client() });
    expect(reopened.messages[1]).toMatchObject({ role: "assistant", status: "interrupted", content: "w0 w1 w2 " });
    expect((await stored(store, id))[1]).toMatchObject({ status: "interrupted", content: "w0 w1 w2 " });
    reopened.close();
  });

  it("open leaves a reply alone while another writer holds the conversation's lock and streams it, and follows it to the end", async () => {
    const store = createMemoryStore();
    upstream.handle(slowStream(100, 10));
    const tab = await Conversation.create(store, { client: client(), model: MODEL });
    const reply = tab.send("stream for a while");
    let n = 0;
    for await (const _ of reply) if (++n === 30) break;
    await wait(300);
    const other = await Conversation.open(store, tab.id, { client: client() });
    expect(other.messages[1]).toMatchObject({ status: "streaming" });
    expect((await stored(store, tab.id))[1]).toMatchObject({ status: "streaming" });
    const seen = new Promise<Message>((resolve) => other.onChange((c) => c.type === "update" && c.message.role === "assistant" && c.message.status !== "streaming" && resolve(c.message)));
    await reply.done;
    expect((await stored(store, tab.id))[1]).toMatchObject({ status: "complete" });
    expect(await seen).toMatchObject({ status: "complete", content: (await reply.done).content });
    expect(other.messages).toEqual(tab.messages);
    other.close();
  });

  it("an abort or an error is stored with its partial text and status", async () => {
    const { store } = instrumented();
    const conv = await Conversation.create(store, { client: client(), model: MODEL });
    upstream.handle(slowStream(300, 5));
    const reply = conv.send("go");
    let n = 0;
    await (async () => {
      for await (const _ of reply) if (++n === 5) conv.abort();
    })().catch(() => {});
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    upstream.handle(json(401, { detail: "Invalid token" }));
    await expect(conv.send("again").done).rejects.toBeInstanceOf(AuthenticationError);
    await conv.flush();
    const messages = await stored(store, conv.id);
    expect(messages.map((m) => (m.role === "assistant" ? m.status : m.role))).toEqual(["user", "interrupted", "user", "error"]);
    expect(messages[1]?.content).toBe(conv.messages[1]?.content);
    expect(String(messages[1]?.content).startsWith("w0 w1 w2 w3 w4")).toBe(true);
  });

  it("a full disk fails the send before anything is sent, keeps the conversation intact, and flush() retries", async () => {
    const { store, state } = instrumented();
    upstream.handle(streamReply(["ok"]));
    const conv = await Conversation.create(store, { client: client(), model: MODEL });
    const errors: ConversationChange[] = [];
    conv.onChange((c) => c.type === "storage-error" && errors.push(c));
    state.full = true;
    await expect(conv.send("precious words").done).rejects.toBeInstanceOf(StorageQuotaError);
    expect(upstream.requests).toHaveLength(0);
    expect(conv.messages.map((m) => m.content)).toEqual(["precious words"]);
    expect(conv.pendingWrites).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
    await expect(conv.flush()).rejects.toBeInstanceOf(StorageQuotaError);

    state.full = false;
    await conv.flush();
    expect(conv.pendingWrites).toBe(0);
    await conv.send("more words").done;
    await conv.flush();
    expect((await stored(store, conv.id)).map((m) => m.content)).toEqual(["precious words", "more words", "ok"]);
  });

  it("regenerate and edit keep every version in the store; a switch is stored, and a reopen shows the chosen path", async () => {
    const { store } = instrumented();
    let n = 0;
    upstream.handle((req, res) => streamReply([`r${++n}`], usage(10, 1, 0.25))(req, res));
    const conv = await Conversation.create(store, { client: client(), model: MODEL });
    await conv.send("a").done;
    await conv.send("b").done;
    await conv.regenerate().done;
    const [a, r1, b, r3] = conv.messages.map((m) => m.id);
    const r2 = conv.versions(r3!).ids[0];
    await conv.edit(a!, "a2").done;
    await conv.flush();
    expect((await stored(store, conv.id)).map((m) => m.content)).toEqual(["a2", "r4"]);
    const meta = (await store.get(conv.id))!;
    expect(meta.messageCount).toBe(7);
    expect(meta.usage.cost).toBe(1); // four replies were paid for, whichever is shown
    expect(conv.usage.cost).toBe(1);
    expect(meta.forks).toEqual({ "": [a, conv.messages[0]!.id], [b!]: [r2, r3] });

    await conv.switchTo(r1!);
    expect(conv.messages.map((m) => m.content)).toEqual(["a", "r1", "b", "r3"]);
    expect(conv.versions(r3!).ids).toHaveLength(2);
    const reopened = await Conversation.open(store, conv.id, { client: client() });
    expect(reopened.messages.map((m) => m.content)).toEqual(["a", "r1", "b", "r3"]);
    expect(reopened.versions(r3!)).toEqual(conv.versions(r3!));
    expect(reopened.versions(a!)).toEqual({ ids: [a, expect.any(String)], index: 0 });
    reopened.close();
    conv.close();
  });

  it("open reads only the newest pages of a long conversation; loadOlder reads more", async () => {
    const { store, calls } = instrumented();
    const meta = await store.create({ model: MODEL });
    for (let i = 0; i < 10_000; i++) {
      await store.appendMessage(meta.id, { id: `m${i}`, role: i % 2 ? "assistant" : "user", content: `message ${i} `.repeat(10), createdAt: i, ...(i % 2 ? { status: "complete" as const } : {}) } as Message);
    }
    calls.loadMessages = 0;
    const conv = await Conversation.open(store, meta.id, { client: client(), contextWindow: 8192 });
    expect(conv.messages.length).toBeLessThan(1000);
    expect(conv.messages.at(-1)?.id).toBe("m9999");
    expect(calls.loadMessages).toBeLessThan(20);
    expect(conv.hasOlder).toBe(true);
    const before = conv.messages.length;
    const prepended: number[] = [];
    conv.onChange((c) => c.type === "prepend" && prepended.push(c.messages.length));
    expect(await conv.loadOlder()).toBe(50);
    expect(conv.messages.length).toBe(before + 50);
    expect(prepended).toEqual([50]);
  });

  it("continue() carries on an interrupted reply in the same message", async () => {
    const { store } = instrumented();
    const conv = await Conversation.create(store, { client: client(), model: MODEL });
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "The llama is a" })));
      res.end(sse(chunk({ content: "" }, { finish_reason: "length", usage: usage(5, 4, 0.001) })) + sse("[DONE]"));
    });
    const cut = await conv.send("describe a llama").done;
    expect(cut.status).toBe("interrupted");
    const release = gate();
    upstream.handle(async (req, res) => {
      release.open();
      return streamReply([" domesticated", " camelid."], usage(20, 3, 0.002))(req, res);
    });
    const final = await conv.continue().done;
    await release.opened;
    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent.slice(-2)).toEqual([
      { role: "assistant", content: "The llama is a" },
      { role: "user", content: CONTINUE_PROMPT },
    ]);
    expect(final).toMatchObject({ id: cut.id, status: "complete", content: "The llama is a domesticated camelid." });
    expect(final.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 7, estimated_cost: 0.003 });
    expect(conv.messages).toHaveLength(2);
    await conv.flush();
    expect((await stored(store, conv.id))[1]).toMatchObject({ content: "The llama is a domesticated camelid.", status: "complete" });
    expect(() => conv.continue()).toThrow(/Nothing to continue/);
  });
});

describe("usage is what the conversation has cost", () => {
  const cost = (n: number) => usage(10 * n, n, n / 1000);

  it("counts replies replaced by regenerate and edit, in memory, in the store, and after open", async () => {
    const store = createMemoryStore();
    let n = 0;
    upstream.handle((req, res) => {
      n++;
      return streamReply([`r${n}`], cost(n))(req, res);
    });
    const conv = await Conversation.create(store, { client: client(), model: MODEL });
    await conv.send("a").done;
    await conv.regenerate().done;
    await conv.edit(conv.messages[0]!.id, "a2").done;
    await conv.send("b").done;
    const spent = { promptTokens: 100, completionTokens: 10, cost: 0.01 }; // 1 + 2 + 3 + 4
    expect(upstream.requests).toHaveLength(4);
    expect(conv.usage.promptTokens).toBe(spent.promptTokens);
    expect(conv.usage.completionTokens).toBe(spent.completionTokens);
    expect(conv.usage.cost).toBeCloseTo(spent.cost, 12);
    expect(conv.messages).toHaveLength(4); // two replies were replaced, and still counted
    expect((await store.get(conv.id))!.usage).toEqual(conv.usage);
    const reopened = await Conversation.open(store, conv.id, { client: client() });
    expect(reopened.usage).toEqual(conv.usage);
    const copy = await Conversation.fromJSON(JSON.parse(JSON.stringify(conv.toJSON())), { client: client() });
    expect(copy.usage).toEqual(conv.usage);
    reopened.close();
    conv.close();
  });

  it("after open() of a conversation longer than one page, counts the pages not loaded", async () => {
    const store = createMemoryStore();
    const { id } = await store.create({ model: MODEL });
    for (let i = 0; i < 400; i++) {
      await store.appendMessage(id, { id: `u${i}`, role: "user", content: `question ${i} `.repeat(40), createdAt: i });
      await store.appendMessage(id, { id: `a${i}`, role: "assistant", content: `answer ${i} `.repeat(40), status: "complete", usage: cost(1), createdAt: i });
    }
    const conv = await Conversation.open(store, id, { client: client(), contextWindow: 8192 });
    expect(conv.hasOlder).toBe(true);
    expect(conv.messages.length).toBeLessThan(800);
    expect(conv.usage.promptTokens).toBe(4000);
    expect(conv.usage.cost).toBeCloseTo(0.4, 12);
    conv.close();
  });
});

describe("two writers on one conversation (two Conversation objects on one store, as two tabs)", () => {
  it("a new version or a switch made by one appears in the other; the next turn of either goes on from the shared path", async () => {
    const store = createMemoryStore();
    let n = 0;
    upstream.handle((req, res) => streamReply([`r${++n}`])(req, res));
    const a = await Conversation.create(store, { client: client(), model: MODEL });
    await a.send("q").done;
    const b = await Conversation.open(store, a.id, { client: client() });
    const settled = (c: Conversation, last: string) =>
      new Promise<void>((resolve) => {
        const check = () => c.messages.at(-1)?.content === last && (stop(), resolve());
        const stop = c.onChange(check);
        check();
      });
    const first = a.messages[1]!.id;
    await a.regenerate().done;
    await settled(b, "r2");
    expect(b.messages.map((m) => m.content)).toEqual(["q", "r2"]);
    expect(b.versions(b.messages[1]!.id)).toEqual({ ids: [first, b.messages[1]!.id], index: 1 });
    await b.switchTo(first);
    await settled(a, "r1");
    expect(a.messages.map((m) => m.content)).toEqual(["q", "r1"]);
    await a.send("more").done; // goes on from r1, the path b chose
    await settled(b, "r3");
    expect(b.messages.map((m) => m.content)).toEqual(["q", "r1", "more", "r3"]);
    expect((await store.loadMessages(a.id)).messages.map((m) => m.content)).toEqual(["q", "r1", "more", "r3"]);
    a.close();
    b.close();
  });

  it("10 rounds of simultaneous sends: the transcript alternates, each reply answers its own question, each request carried every earlier turn", async () => {
    const store = createMemoryStore();
    upstream.handle(async (req, res) => {
      const messages = (req.body as { messages: { content: string }[] }).messages;
      await wait(5 + Math.floor(Math.random() * 20));
      return streamReply([`answer to `, messages.at(-1)!.content])(req, res);
    });
    const a = await Conversation.create(store, { client: client(), model: MODEL });
    const b = await Conversation.open(store, a.id, { client: client() });
    const waited: string[] = [];
    b.onChange((c) => c.type === "reply" && c.reply.state === "waiting" && waited.push("b"));
    a.onChange((c) => c.type === "reply" && c.reply.state === "waiting" && waited.push("a"));
    for (let round = 0; round < 10; round++) {
      await Promise.all([a.send(`a${round}`).done, b.send(`b${round}`).done]);
    }
    const stored = (await store.loadMessages(a.id, { limit: 1000 })).messages;
    expect(stored).toHaveLength(40);
    stored.forEach((m, i) => {
      expect(m.role).toBe(i % 2 ? "assistant" : "user");
      if (m.role === "assistant") expect(m).toMatchObject({ status: "complete", content: `answer to ${stored[i - 1]!.content}` });
    });
    const requests = upstream.requests.slice(-20).map((r) => (r.body as { messages: { content: string }[] }).messages.map((m) => m.content));
    for (const sent of requests) {
      const at = stored.findIndex((m) => m.role === "user" && m.content === sent.at(-1));
      expect(sent).toEqual(stored.slice(0, at + 1).map((m) => m.content));
    }
    expect(waited.length).toBeGreaterThanOrEqual(10); // every round, the later of the two waited for the other's turn
    await wait(50);
    expect(a.messages).toEqual(stored);
    expect(b.messages).toEqual(stored);
    a.close();
    b.close();
  });
});

describe("a store without a lock (one of your own): nothing is lost", () => {
  /** The memory store less what makes turns exclusive and replies settle: no lock, no interruptStale, no onChange. */
  const lockless = (): ConversationStore => {
    const { lockConversation: _l, interruptStale: _i, onChange: _o, ...rest } = createMemoryStore();
    return rest;
  };

  it("two Conversation objects sending at once store every message once, each reply complete", async () => {
    const store = lockless();
    upstream.handle(async (req, res) => {
      await wait(Math.floor(Math.random() * 15));
      return streamReply([`answer to ${(req.body as { messages: { content: string }[] }).messages.at(-1)!.content}`])(req, res);
    });
    const a = await Conversation.create(store, { client: client(), model: MODEL });
    const b = await Conversation.open(store, a.id, { client: client() });
    for (let round = 0; round < 5; round++) await Promise.all([a.send(`a${round}`).done, b.send(`b${round}`).done]);
    // Without a lock, two writers each go on from the path they know: branches, every message stored in one of them.
    const all = (await store.export(a.id)).messages;
    const users = all.filter((m) => m.role === "user").map((m) => m.content);
    expect([...users].sort()).toEqual(["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3", "b4"]);
    const replies = all.filter((m): m is AssistantMessage => m.role === "assistant");
    expect(replies.map((m) => m.status)).toEqual(Array(10).fill("complete"));
    expect(replies.map((m) => m.content).sort()).toEqual(users.map((u) => `answer to ${u}`).sort());
    expect(new Set(all.map((m) => m.id)).size).toBe(20);
  });

  it("open shows a reply left streaming as interrupted, and leaves the store alone (its writer may still be at work)", async () => {
    const store = lockless();
    const { id } = await store.create({ model: MODEL });
    await store.appendMessage(id, { id: "q", role: "user", content: "q", createdAt: 1 });
    await store.appendMessage(id, { id: "r", role: "assistant", content: "half", status: "streaming", createdAt: 2 });
    const opened = await Conversation.open(store, id, { client: client() });
    expect(opened.messages[1]).toMatchObject({ status: "interrupted", content: "half" });
    expect((await stored(store, id))[1]).toMatchObject({ status: "streaming" });
  });
});

describe("the lock covers the whole turn", () => {
  it("a slow final write still lands before the other writer's turn reads: its request carries the finished reply", async () => {
    const inner = createMemoryStore();
    // A slow disk for replies: every assistant write takes 40 ms (the user message's write is quick).
    const store: ConversationStore = {
      ...inner,
      updateMessage: async (id, message) => {
        if (message.role === "assistant") await wait(40);
        return inner.updateMessage(id, message);
      },
    };
    upstream.handle(async (req, res) => {
      const last = (req.body as { messages: { content: string }[] }).messages.at(-1)!.content;
      return streamReply(["the whole ", `answer to ${last}`])(req, res);
    });
    const a = await Conversation.create(store, { client: client(), model: MODEL });
    const b = await Conversation.open(store, a.id, { client: client() });
    const first = a.send("first");
    await wait(5); // a holds the lock; b's send waits for it
    const second = b.send("second");
    await Promise.all([first.done, second.done]);
    const sent = (upstream.requests.at(-1)!.body as { messages: { role: string; content: string }[] }).messages;
    expect(sent).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "the whole answer to first" },
      { role: "user", content: "second" },
    ]);
    expect((await stored(store, a.id)).map((m) => (m.role === "assistant" ? m.status : m.content))).toEqual(["first", "complete", "second", "complete"]);
    a.close();
    b.close();
  });
});
