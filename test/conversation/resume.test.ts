// A Conversation over a relay that makes replies resumable (helpers/relay-server.ts): the streaming message carries
// where it can be resumed, and a page opened after the writer's page went away re-attaches to the same generation.
import * as v from "valibot";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Conversation, CONTINUE_PROMPT } from "../../src/conversation/conversation.ts";
import { ValidationError } from "../../src/errors/validation.ts";
import { createClient, NotFoundError } from "../../src/index.ts";
import type { AssistantMessage, Message } from "../../src/messages/types.ts";
import { isMessageRecord } from "../../src/store/idb/records.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { tool, toolset } from "../../src/tools/index.ts";
import type { ConversationStore } from "../../src/store/types.ts";
import { type Generation, type Relay, startRelay } from "../helpers/relay-server.ts";
import { chunk, gate, MODEL, sse, startSSE, startUpstream, type Upstream, usage, wait } from "../helpers/upstream.ts";

let upstream: Upstream;
let relay: Relay;
beforeAll(async () => {
  upstream = await startUpstream();
  relay = await startRelay(upstream.baseURL);
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});
beforeEach(() => relay.reset());

const WORDS = 80;
const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${from + i} `).join("");
const FULL = words(WORDS);

/** The upstream streams WORDS words, one every `gap` ms (until its client goes), then its usage and [DONE]. */
function slowUpstream(gap = 8) {
  upstream.handle(async (req, res) => {
    startSSE(res);
    let open = true;
    void req.closed.then(() => (open = false));
    res.write(sse(chunk({ role: "assistant", content: "" })));
    // A continue request gets a short, different text.
    if (req.body.messages.at(-1)?.content === CONTINUE_PROMPT) {
      res.end(sse(chunk({ content: "…and the rest." })) + sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(30, 4) })) + sse("[DONE]"));
      return;
    }
    for (let i = 0; open && i < WORDS; i++) {
      res.write(sse(chunk({ content: `w${i} ` })));
      await wait(gap);
    }
    if (open) res.end(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(20, WORDS) })) + sse("[DONE]"));
  });
}

const client = () => createClient({ baseURL: relay.baseURL, apiKey: "client-a-key" });
const stored = async (store: ConversationStore, id: string): Promise<Message[]> => (await store.loadMessages(id, { limit: 100 })).messages;
const relayed = (method: string) => relay.requests.filter((r) => r.method === method);
const generationOf = (m: Message) => relay.generation((m as AssistantMessage).resume!.url)!;

/**
 * A page: the client and the store handle one tab has, and `close()`, which does to them what closing the tab does:
 * the locks it holds are released (the browser releases a closed page's Web Locks), its connections are cut, and
 * nothing of it reaches the store or the network any more. The page's code is never told: it cannot send a cancel,
 * and whatever it still tries is lost. What stays is the store as the page left it.
 */
function page(store: ConversationStore) {
  let closed = false;
  const gone = gate();
  const sent: { method: string; url: string }[] = [];
  const connections = new AbortController();
  const never = new Promise<never>(() => {});
  const pageFetch: typeof fetch = (input, init = {}) => {
    sent.push({ method: init.method ?? "GET", url: String(input) });
    if (closed) return Promise.reject(new TypeError("Failed to fetch"));
    const signal = init.signal ? AbortSignal.any([init.signal, connections.signal]) : connections.signal;
    return fetch(input, { ...init, signal });
  };
  const handle = new Proxy(store, {
    get(target, key: string) {
      const value = (target as unknown as Record<string, unknown>)[key];
      if (typeof value !== "function") return value;
      if (key === "lockConversation") {
        // The page's turn holds the lock until the page closes; then the lock is free, and the page never hears back.
        return (id: string, fn: () => unknown, options?: object) =>
          closed ? never : target.lockConversation!(id, () => Promise.race([fn(), gone.opened]), options).then((value) => (closed ? never : value));
      }
      if (key === "onChange") return (listener: (c: unknown) => void) => target.onChange!((c) => !closed && listener(c));
      return (...args: unknown[]) => (closed ? never : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  }) as ConversationStore;
  return {
    store: handle,
    client: createClient({ baseURL: relay.baseURL, apiKey: "client-a-key", fetch: pageFetch }),
    sent,
    close() {
      closed = true;
      connections.abort();
      // Released the way a closed page's locks are: the holder's work is simply gone.
      gone.open();
    },
  };
}

/** Every message written to `store`, as written. */
function recordWrites(store: ConversationStore) {
  const writes: Message[] = [];
  const handle = new Proxy(store, {
    get(target, key: string) {
      const value = (target as unknown as Record<string, unknown>)[key];
      if (typeof value !== "function") return value;
      if (key === "updateMessage" || key === "appendMessage") {
        return (id: string, message: Message) => {
          writes.push(structuredClone(message));
          return (value as (...a: unknown[]) => unknown).call(target, id, message);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  }) as ConversationStore;
  return { store: handle, writes };
}

/** A streaming message's text is exactly that of the events up to its resume point. */
function expectConsistent(message: Message, what: string): Generation {
  const m = message as AssistantMessage;
  expect(m.resume, what).toBeDefined();
  expect(m.resume!.url, what).toMatch(new RegExp(`^${relay.origin}/generations/`));
  const g = generationOf(m);
  expect(m.content, `${what} at ${m.resume!.lastEventId}`).toBe(relay.textUpTo(g, m.resume!.lastEventId));
  return g;
}

/** Send, let the reply stream for a while, and close the page mid-reply (after its last throttled write landed). */
async function closeMidReply(store: ConversationStore, gap = 8) {
  slowUpstream(gap);
  const first = page(store);
  const chat = await Conversation.create(first.store, { client: first.client, model: MODEL });
  const reply = chat.send("tell me a long story");
  let n = 0;
  for await (const _ of reply) if (++n === 20) break;
  await wait(300);
  first.close();
  const left = (await stored(store, chat.id))[1] as AssistantMessage;
  expect(left.status).toBe("streaming");
  const g = expectConsistent(left, "the reply the page left");
  expect(left.content.length).toBeGreaterThan(0);
  expect(left.content).not.toBe(FULL);
  return { id: chat.id, first, left, g };
}

describe("the streaming message knows where to resume", () => {
  it("every stored copy and every update carries a resume point consistent with its text; the final message has none", async () => {
    slowUpstream(8);
    const { store, writes } = recordWrites(createMemoryStore());
    const chat = await Conversation.create(store, { client: client(), model: MODEL });
    const updates: AssistantMessage[] = [];
    chat.onChange((c) => c.type === "update" && c.message.role === "assistant" && updates.push(c.message));
    const done = await chat.send("count").done;
    expect(done).toMatchObject({ status: "complete", content: FULL });
    expect(done.resume).toBeUndefined();
    const streamingWrites = writes.filter((m) => m.role === "assistant" && m.status === "streaming" && m.content !== "");
    expect(streamingWrites.length).toBeGreaterThanOrEqual(1);
    for (const m of streamingWrites) expectConsistent(m, "stored copy");
    for (const m of updates.filter((u) => u.status === "streaming")) expectConsistent(m, "update");
    const final = (await stored(store, chat.id))[1] as AssistantMessage;
    expect(final).toMatchObject({ status: "complete", content: FULL });
    expect("resume" in final).toBe(false);
    expect(upstream.requests).toHaveLength(1);
  });

  it("from an ordinary server no resume point is stored, and a reply left streaming is interrupted on open, as before", async () => {
    slowUpstream();
    relay.advertise = false;
    const store = createMemoryStore();
    const first = page(store);
    const chat = await Conversation.create(first.store, { client: first.client, model: MODEL });
    let n = 0;
    for await (const _ of chat.send("plain")) if (++n === 10) break;
    await wait(300);
    first.close();
    const left = (await stored(store, chat.id))[1] as AssistantMessage;
    expect(left).toMatchObject({ status: "streaming" });
    expect(left.resume).toBeUndefined();
    const reopened = await Conversation.open(store, chat.id, { client: client() });
    expect(reopened.resuming).toBeUndefined();
    expect(reopened.messages[1]).toMatchObject({ status: "interrupted", content: left.content });
    expect(relayed("GET")).toHaveLength(0);
    reopened.close();
  });
});

describe("a reopened page re-attaches to the reply its predecessor left streaming", () => {
  it("the same reply completes, byte-identical, with one upstream request and no cancel", async () => {
    const store = createMemoryStore();
    const { id, first, left, g } = await closeMidReply(store);
    const reopened = await Conversation.open(store, id, { client: client() });
    const reply = reopened.resuming!;
    expect(reply).toBeDefined();
    const states: string[] = [];
    const seen: string[] = [];
    reopened.onChange((c) => c.type === "reply" && c.reply === reply && states.push(c.reply.state));
    reopened.onChange((c) => c.type === "update" && c.message.role === "assistant" && c.message.status === "streaming" && seen.push(c.message.content));
    let tail = "";
    for await (const t of reply) tail += t;
    const done = await reply.done;
    expect(done).toMatchObject({ id: left.id, status: "complete", content: FULL, finishReason: "stop", usage: usage(20, WORDS) });
    expect(done.content).toBe(relay.textUpTo(g, String(g.events.length)));
    expect(left.content + tail).toBe(FULL);
    expect("resume" in done).toBe(false);
    expect(states.at(-1)).toBe("complete");
    expect(seen.length).toBeGreaterThan(0);
    expect(reopened.messages[1]).toEqual(done);
    expect((await stored(store, id))[1]).toEqual(done);
    expect((await store.get(id))!.usage).toMatchObject({ promptTokens: 20, completionTokens: WORDS });
    expect(reopened.busy).toBe(false);
    // One model call; the resume read on after the stored point; nobody cancelled.
    expect(upstream.requests).toHaveLength(1);
    expect(relayed("GET").map((r) => r.headers["last-event-id"])).toEqual([left.resume!.lastEventId]);
    expect(relayed("DELETE")).toHaveLength(0);
    expect(first.sent.filter((s) => s.method === "DELETE")).toHaveLength(0);
    // And the conversation goes on from there.
    slowUpstream(0);
    await reopened.send("thanks").done;
    expect(upstream.requests[0]!.body.messages.slice(-2)).toEqual([
      { role: "assistant", content: FULL },
      { role: "user", content: "thanks" },
    ]);
    reopened.close();
  });

  it("while streaming again, its stored copies stay consistent with their resume points", async () => {
    const { store: inner, writes } = recordWrites(createMemoryStore());
    // Slow enough that the rest streams for a while (a streaming write is due every 250 ms).
    const { id, left } = await closeMidReply(inner, 25);
    writes.length = 0;
    const reopened = await Conversation.open(inner, id, { client: client() });
    await reopened.resuming!.done;
    const streaming = writes.filter((m) => m.id === left.id && m.role === "assistant" && m.status === "streaming");
    expect(streaming.length).toBeGreaterThanOrEqual(1);
    for (const m of streaming) expectConsistent(m, "stored while re-attached");
    reopened.close();
  });

  it("a generation the server no longer has (404): the reply becomes interrupted, its text kept, and continue() carries it on", async () => {
    const store = createMemoryStore();
    const { id, left, g } = await closeMidReply(store);
    relay.expire(g.id);
    const reopened = await Conversation.open(store, id, { client: client() });
    const error = await reopened.resuming!.done.catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(reopened.resuming!.state).toBe("interrupted");
    const interrupted = reopened.messages[1] as AssistantMessage;
    expect(interrupted).toMatchObject({ id: left.id, status: "interrupted", content: left.content, error: { name: "NotFoundError" } });
    expect(interrupted.resume).toBeUndefined();
    expect((await stored(store, id))[1]).toEqual(interrupted);
    expect(upstream.requests).toHaveLength(1);
    const done = await reopened.continue().done;
    expect(done).toMatchObject({ id: left.id, status: "complete", content: `${left.content}…and the rest.` });
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1]!.body.messages.at(-1)).toEqual({ role: "user", content: CONTINUE_PROMPT });
    reopened.close();
  });

  it("a generation that cannot be read (the relay down) also ends interrupted", async () => {
    const store = createMemoryStore();
    const { id, left } = await closeMidReply(store);
    relay.fault = () => ({ status: 503 });
    const reopened = await Conversation.open(store, id, { client: createClient({ baseURL: relay.baseURL, apiKey: "client-a-key", maxRetries: 0 }) });
    await expect(reopened.resuming!.done).rejects.toMatchObject({ status: 503 });
    expect(reopened.messages[1]).toMatchObject({ status: "interrupted", content: left.content });
    reopened.close();
  });

  it("while the writer's page is still open, the new page leaves its reply to it: its own send waits for that turn, then goes on; no re-attach", async () => {
    slowUpstream();
    const store = createMemoryStore();
    const writer = await Conversation.create(store, { client: client(), model: MODEL });
    const reply = writer.send("long one");
    let n = 0;
    for await (const _ of reply) if (++n === 10) break;
    await wait(300);
    expect((await stored(store, writer.id))[1]).toMatchObject({ status: "streaming", resume: expect.anything() });
    const other = await Conversation.open(store, writer.id, { client: client() });
    expect(other.resuming).toBeUndefined(); // the writer is at work: nothing to take over
    expect(other.busy).toBe(false);
    const asked = other.send("and then?");
    await wait(10);
    expect(asked.state).toBe("waiting"); // for the writer's turn, not behind a re-attach of its own
    const finished = await reply.done;
    await asked.done;
    expect(other.messages[1]).toEqual(finished);
    expect(other.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(other.resuming).toBeUndefined();
    expect(upstream.requests).toHaveLength(2); // the writer's, and the new question's
    // The other page read the generation only to show it live (see below): it never cancelled it.
    expect(relayed("DELETE")).toHaveLength(0);
    writer.close();
    other.close();
  });

  it("a second page shows the writer's reply live, event by event, not only as the writer stores it (every 250 ms)", async () => {
    slowUpstream(8);
    const { store, writes } = recordWrites(createMemoryStore());
    const writer = await Conversation.create(store, { client: client(), model: MODEL });
    const reply = writer.send("long one");
    let n = 0;
    for await (const _ of reply) if (++n === 10) break;
    await wait(300);
    const other = await Conversation.open(store, writer.id, { client: client() });
    const shownAtOpen = (other.messages[1]!.content as string).split(" ").length - 1;
    const seen: string[] = [];
    other.onChange((c) => {
      if (c.type !== "update" || c.message.role !== "assistant") return;
      seen.push(c.message.content);
      // What it shows can always be carried on from: its text is that of the events up to its resume point.
      if (c.message.status === "streaming") expectConsistent(c.message, "the followed reply");
    });
    const finished = await reply.done;
    await vi.waitFor(() => expect(other.messages[1]).toEqual(finished));
    const written = writes.filter((m) => m.id === finished.id).length;
    // Every word, as it came: many more changes than the writer's writes, and never a step back.
    expect(seen.length).toBeGreaterThanOrEqual(WORDS - shownAtOpen);
    expect(seen.length).toBeGreaterThan(written * 4);
    seen.forEach((text, i) => expect(text.startsWith(seen[i - 1] ?? "")).toBe(true));
    expect(seen.at(-1)).toBe(FULL);
    expect(other.resuming).toBeUndefined();
    expect(upstream.requests).toHaveLength(1);
    expect(relayed("GET").length).toBeGreaterThan(0);
    expect(relayed("DELETE")).toHaveLength(0);
    writer.close();
    other.close();
  });

  it("a page watching the writer's takes the generation over when the writer's page closes", async () => {
    const store = createMemoryStore();
    slowUpstream();
    const first = page(store);
    const writer = await Conversation.create(first.store, { client: first.client, model: MODEL });
    let n = 0;
    for await (const _ of writer.send("hand it over")) if (++n === 10) break;
    await wait(300);
    const other = await Conversation.open(store, writer.id, { client: client() });
    await wait(10);
    expect(other.resuming).toBeUndefined(); // still the writer's
    first.close();
    await vi.waitFor(() => expect(other.resuming).toBeDefined(), { timeout: 5000 });
    const done = await other.resuming!.done;
    expect(done).toMatchObject({ status: "complete", content: FULL });
    expect((await stored(store, writer.id))[1]).toEqual(done);
    expect(upstream.requests).toHaveLength(1);
    expect(relayed("DELETE")).toHaveLength(0);
    other.close();
  });

  it("Stop on a re-attached reply cancels the generation (one DELETE) and leaves it interrupted", async () => {
    const store = createMemoryStore();
    // Slow enough that the generation is still running when Stop is pressed.
    const { id, g } = await closeMidReply(store, 40);
    const reopened = await Conversation.open(store, id, { client: client() });
    const reply = reopened.resuming!;
    for await (const _ of reply) break;
    reopened.abort();
    await reply.done.catch(() => {});
    expect(reply.state).toBe("interrupted");
    await wait(50);
    expect(relayed("DELETE")).toHaveLength(1);
    expect(g.cancelled).toBe(true);
    const m = reopened.messages[1] as AssistantMessage;
    expect(m).toMatchObject({ status: "interrupted" });
    expect(m.resume).toBeUndefined();
    expect(FULL.startsWith(m.content)).toBe(true);
    reopened.close();
  });
});

describe("a live page", () => {
  it("a connection dropped mid-reply is picked up by the stream: the reply completes, byte-identical, one upstream request", async () => {
    slowUpstream(2);
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 30, partial: 25 } : undefined);
    const store = createMemoryStore();
    const chat = await Conversation.create(store, { client: client(), model: MODEL });
    let text = "";
    const reply = chat.send("keep going");
    for await (const t of reply) text += t;
    expect(await reply.done).toMatchObject({ status: "complete", content: FULL });
    expect(text).toBe(FULL);
    expect(upstream.requests).toHaveLength(1);
    expect(relayed("GET").map((r) => r.headers["last-event-id"])).toEqual(["30"]);
  });

  it("a generation gone when the stream resumes it: the reply is interrupted (not an error), its text kept; continue() works", async () => {
    slowUpstream(2);
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 30, expire: true } : undefined);
    const store = createMemoryStore();
    const chat = await Conversation.create(store, { client: client(), model: MODEL });
    const reply = chat.send("expire me");
    await expect(reply.done).rejects.toBeInstanceOf(NotFoundError);
    const m = chat.messages[1] as AssistantMessage;
    expect(m).toMatchObject({ status: "interrupted", content: words(29), error: { name: "NotFoundError" } });
    expect(m.resume).toBeUndefined();
    expect(await chat.continue().done).toMatchObject({ status: "complete", content: `${words(29)}…and the rest.` });
  });
});

describe("a tool step across a reload (tools and resumable replies together)", () => {
  const ARGS = '{"city":"Reykjavík, the capital of Iceland","days":3}';
  const TEXT_CALL = `<|python_tag|>{"name": "weather", "parameters": ${ARGS}}`;

  /** A weather tool that counts its runs, and the upstream: step 1 writes a call one character every `gap` ms (as
   * the server's tool_calls, or as Llama's text), step 2 answers. */
  function toolTurn(style: "tool_calls" | "text", gap = 25) {
    const runs: unknown[] = [];
    const weather = tool({
      description: "The weather",
      parameters: v.object({ city: v.string(), days: v.number() }),
      execute: (args) => (runs.push(args), "cold"),
    });
    upstream.handle(
      async (req, res) => {
        startSSE(res);
        let open = true;
        void req.closed.then(() => (open = false));
        res.write(sse(chunk({ role: "assistant", content: "" })));
        if (style === "tool_calls") res.write(sse(chunk({ tool_calls: [{ index: 0, id: "call_w", type: "function", function: { name: "weather", arguments: "" } }] })));
        const written = style === "text" ? TEXT_CALL : ARGS;
        for (let i = 0; open && i < written.length; i++) {
          res.write(sse(chunk(style === "text" ? { content: written[i] } : { tool_calls: [{ index: 0, function: { arguments: written[i] } }] })));
          await wait(gap);
        }
        if (open) res.end(sse(chunk({}, { finish_reason: style === "text" ? "stop" : "tool_calls", usage: usage(20, 30) })) + sse("[DONE]"));
      },
      (_req, res) => {
        startSSE(res);
        res.end(sse(chunk({ role: "assistant", content: "Cold." })) + sse(chunk({}, { finish_reason: "stop", usage: usage(40, 2) })) + sse("[DONE]"));
      },
    );
    return { runs, tools: toolset({ weather }) };
  }

  /** The step as stored once a page has written part of its call (its last throttled write landed). */
  async function partway(store: ConversationStore, id: string, style: "tool_calls" | "text"): Promise<AssistantMessage> {
    await vi.waitFor(
      async () => {
        const m = (await stored(store, id))[1] as AssistantMessage | undefined;
        expect(m?.resume).toBeDefined();
        // Some of the call written: its arguments stored, or (held back from the text) its events relayed.
        expect(style === "text" ? generationOf(m!).events.length : (m!.toolCalls?.[0]?.arguments.length ?? 0)).toBeGreaterThan(15);
      },
      { timeout: 5000, interval: 20 },
    );
    await wait(300);
    return (await stored(store, id))[1] as AssistantMessage;
  }

  it.each(["tool_calls", "text"] as const)("a page closed while the call streams (%s): the reopened page completes the same call, runs it once, and asks the model once more", async (style) => {
    const store = createMemoryStore();
    const { runs, tools } = toolTurn(style);
    const first = page(store);
    const chat = await Conversation.create(first.store, { client: first.client, model: MODEL, tools });
    void chat.send("Weather in Reykjavík?").done.catch(() => {});
    const left = await partway(store, chat.id, style);
    first.close();
    expect(left.status).toBe("streaming");
    // What it stored can be carried on from: its text (a call's text held back) is that of the events up to its point.
    expectConsistent(left, "the step the page left");
    if (style === "tool_calls") expect(left.toolCalls![0]!.arguments.length).toBeLessThan(ARGS.length);
    else expect(left.content).toBe("");

    const reopened = await Conversation.open(store, chat.id, { client: client(), tools });
    const done = await reopened.resuming!.done;
    expect(done).toMatchObject({ role: "assistant", content: "Cold.", status: "complete" });
    const step = reopened.messages[1] as AssistantMessage;
    expect(step).toMatchObject({ id: left.id, content: "", status: "complete" });
    expect(step.toolCalls).toMatchObject([{ name: "weather", arguments: JSON.stringify(JSON.parse(ARGS)), state: "done", result: "cold" }]);
    expect(runs).toEqual([JSON.parse(ARGS)]);
    // Step 1 once (its generation read on, not asked again), step 2 once; the call went back whole.
    expect(upstream.requests).toHaveLength(2);
    const sentBack = upstream.requests[1]!.body.messages.slice(-2);
    expect(sentBack[0].tool_calls[0].function).toEqual({ name: "weather", arguments: step.toolCalls![0]!.arguments });
    expect(sentBack[1]).toMatchObject({ role: "tool", content: "cold" });
    expect(relayed("DELETE")).toHaveLength(0);
    reopened.close();
  });

  it.each(["tool_calls", "text"] as const)("a page following the writer's call (%s) takes it over when the writer closes: the call completes whole and runs once", async (style) => {
    const store = createMemoryStore();
    const { runs, tools } = toolTurn(style);
    const first = page(store);
    const writer = await Conversation.create(first.store, { client: first.client, model: MODEL, tools });
    void writer.send("Weather in Reykjavík?").done.catch(() => {});
    await partway(store, writer.id, style);
    const other = await Conversation.open(store, writer.id, { client: client(), tools });
    // It follows the generation: what it shows stays something it can carry on from.
    const shown: AssistantMessage[] = [];
    other.onChange((c) => c.type === "update" && c.message.role === "assistant" && c.message.status === "streaming" && shown.push(c.message));
    await vi.waitFor(() => expect(shown.length).toBeGreaterThan(3), { timeout: 5000 });
    for (const m of shown) expectConsistent(m, "the followed step");
    first.close();
    await vi.waitFor(() => expect(other.resuming).toBeDefined(), { timeout: 5000 });
    await other.resuming!.done;
    expect((other.messages[1] as AssistantMessage).toolCalls).toMatchObject([{ arguments: JSON.stringify(JSON.parse(ARGS)), state: "done" }]);
    expect(runs).toEqual([JSON.parse(ARGS)]);
    expect(upstream.requests).toHaveLength(2);
    other.close();
  });
});

describe("a tool left running by a page that closed", () => {
  const STOPPED = "Stopped: the page or process running it went away.";

  /** A tool that never ends by itself (it counts its runs), and the upstream: step 1 calls it, step 2 answers. */
  function runningTurn() {
    const runs: unknown[] = [];
    const entered = gate();
    const slow = tool({
      description: "Slow",
      parameters: v.object({ n: v.number() }),
      execute: (args) => (runs.push(args), entered.open(), new Promise(() => {})),
    });
    upstream.handle(
      (_req, res) => {
        startSSE(res);
        res.write(sse(chunk({ role: "assistant", content: "" })));
        res.write(sse(chunk({ tool_calls: [{ index: 0, id: "call_s", type: "function", function: { name: "slow", arguments: '{"n":1}' } }] })));
        res.end(sse(chunk({}, { finish_reason: "tool_calls", usage: usage(20, 8) })) + sse("[DONE]"));
      },
      (_req, res) => {
        startSSE(res);
        res.end(sse(chunk({ role: "assistant", content: "Done." })) + sse(chunk({}, { finish_reason: "stop", usage: usage(40, 2) })) + sse("[DONE]"));
      },
    );
    return { runs, entered, tools: toolset({ slow }) };
  }

  /** Send, and wait until the store shows the call running. */
  async function untilRunning(chat: Conversation, store: ConversationStore, entered: { opened: Promise<void> }) {
    void chat.send("Run it").done.catch(() => {});
    await entered.opened;
    await vi.waitFor(async () => expect(((await stored(store, chat.id))[1] as AssistantMessage).toolCalls?.[0]?.state).toBe("running"), { timeout: 5000, interval: 10 });
  }

  it("the reopened page shows the call stopped and the step interrupted; continue() goes on, the tool not run again", async () => {
    const store = createMemoryStore();
    const { runs, entered, tools } = runningTurn();
    const first = page(store);
    const chat = await Conversation.create(first.store, { client: first.client, model: MODEL, tools });
    await untilRunning(chat, store, entered);
    first.close();

    const reopened = await Conversation.open(store, chat.id, { client: client(), tools });
    const expected = { status: "interrupted", toolCalls: [{ id: "call_s", state: "error", result: STOPPED }] };
    expect(reopened.messages[1]).toMatchObject(expected);
    expect((await stored(store, chat.id))[1]).toMatchObject(expected);
    expect(reopened.canContinue).toBe(true);
    expect(await reopened.continue().done).toMatchObject({ status: "complete", content: "Done." });
    expect(runs).toEqual([{ n: 1 }]);
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1]!.body.messages.at(-1)).toEqual({ role: "tool", tool_call_id: "call_s", content: STOPPED });
    reopened.close();
  });

  it("a page open meanwhile leaves the running call alone while its writer lives, and stops it once the writer's page closes", async () => {
    const store = createMemoryStore();
    const { entered, tools } = runningTurn();
    const first = page(store);
    const writer = await Conversation.create(first.store, { client: first.client, model: MODEL, tools });
    await untilRunning(writer, store, entered);
    const other = await Conversation.open(store, writer.id, { client: client(), tools });
    await wait(200);
    expect(other.messages[1]).toMatchObject({ status: "complete", toolCalls: [{ state: "running" }] });
    expect(other.canContinue).toBe(false);

    first.close();
    await vi.waitFor(() => expect(other.messages[1]).toMatchObject({ status: "interrupted", toolCalls: [{ state: "error", result: STOPPED }] }), { timeout: 5000 });
    expect(other.canContinue).toBe(true);
    other.close();
  });
});

describe("Stop and the relay's own end", () => {
  it("chat.abort() sends one DELETE; the reply is interrupted with its text", async () => {
    slowUpstream();
    const store = createMemoryStore();
    const chat = await Conversation.create(store, { client: client(), model: MODEL });
    const reply = chat.send("stop me");
    let n = 0;
    for await (const _ of reply) if (++n === 5) break;
    chat.abort();
    await reply.done.catch(() => {});
    await wait(50);
    expect(relayed("DELETE")).toHaveLength(1);
    const m = (await stored(store, chat.id))[1] as AssistantMessage;
    expect(m).toMatchObject({ status: "interrupted", error: { name: "UserAbortError" } });
    expect(m.resume).toBeUndefined();
    expect(relay.generation(relayed("DELETE")[0]!.path)!.cancelled).toBe(true);
  });

  it('finish_reason "cancelled" (a Stop elsewhere, a cap) makes the reply interrupted, its text kept; continue() works', async () => {
    slowUpstream();
    const store = createMemoryStore();
    const chat = await Conversation.create(store, { client: client(), model: MODEL });
    const reply = chat.send("cancel me elsewhere");
    let n = 0;
    let url = "";
    chat.onChange((c) => c.type === "update" && c.message.role === "assistant" && c.message.resume && (url = c.message.resume.url));
    for await (const _ of reply) if (++n === 5) break;
    // Another page, or the relay itself, ends the generation.
    expect((await fetch(url, { method: "DELETE", headers: { authorization: "Bearer client-a-key" } })).status).toBe(204);
    const done = await reply.done;
    expect(done).toMatchObject({ status: "interrupted", finishReason: "cancelled" });
    expect(done.content.length).toBeGreaterThan(0);
    expect(FULL.startsWith(done.content)).toBe(true);
    expect(done.resume).toBeUndefined();
    expect(reply.state).toBe("interrupted");
    const continued = await chat.continue().done;
    expect(continued).toMatchObject({ status: "complete", content: `${done.content}…and the rest.` });
    expect(upstream.requests).toHaveLength(2);
  });
});

describe("the resume point in documents and records", () => {
  const doc = (status: string, resume: unknown) => ({
    format: "edgechat.conversation",
    version: 2,
    id: "c1",
    model: MODEL,
    createdAt: 1,
    messages: [
      { id: "q", role: "user", content: "hi", createdAt: 1 },
      { id: "r", role: "assistant", content: "Hel", status, createdAt: 2, parentId: "q", resume },
    ],
  });

  it("a document keeps it; read back, a reply left streaming is interrupted without it (nothing writes it any more)", async () => {
    const conv = await Conversation.fromJSON(doc("streaming", { url: "https://relay.example/g/1", lastEventId: "3" }), { client: client() });
    const reply = conv.messages[1] as AssistantMessage;
    expect(reply).toMatchObject({ status: "interrupted", content: "Hel" });
    expect("resume" in reply).toBe(false);
    const store = createMemoryStore();
    await store.import(doc("streaming", { url: "https://relay.example/g/1", lastEventId: "3" }));
    expect((await stored(store, "c1"))[1]).toMatchObject({ status: "interrupted" });
    await expect(Conversation.fromJSON(doc("streaming", { url: 1, lastEventId: "3" }), { client: client() })).rejects.toThrow(ValidationError);
    await expect(Conversation.fromJSON(doc("streaming", { url: "u" }), { client: client() })).rejects.toThrow(ValidationError);
  });

  it("export keeps a streaming reply's resume point; the memory store and IndexedDB records keep it as written", async () => {
    const store = createMemoryStore();
    const { id } = await store.create({ model: MODEL });
    const q: Message = { id: "q", role: "user", content: "hi", createdAt: 1 };
    const r: Message = { id: "r", role: "assistant", content: "Hel", status: "streaming", createdAt: 2, resume: { url: "https://relay.example/g/1", lastEventId: "3" } };
    await store.appendMessage(id, q);
    await store.appendMessage(id, r);
    expect((await stored(store, id))[1]).toEqual({ ...r, parentId: "q" });
    expect((await store.export(id)).messages[1]).toMatchObject({ resume: r.resume });
    expect(isMessageRecord({ conversationId: id, seq: 1, message: { ...r, parentId: "q" } })).toBe(true);
  });
});
