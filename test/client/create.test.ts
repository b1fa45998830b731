import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatCompletionChunk, createClient, toSSEStream } from "../../src/index.ts";
import { parseSSE } from "../../src/sse/index.ts";
import { chunk, completion, gate, json, MODEL, replyEvents, sse, startSSE, startUpstream, streamReply, type Upstream, usage } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const messages = [{ role: "user" as const, content: "Hello" }];

describe("non-streaming create", () => {
  it("returns the typed completion with DeepInfra's estimated_cost", async () => {
    upstream.handle(json(200, completion("Hi there!", usage(20, 4, 0.0000123))));
    const client = createClient({ apiKey: "di-test-key-123456", baseURL: upstream.baseURL });
    const result = await client.chat.completions.create({ model: MODEL, messages });
    expect(result.choices[0]?.message.content).toBe("Hi there!");
    expect(result.usage?.estimated_cost).toBe(0.0000123);
    expect(result.usage?.prompt_tokens).toBe(20);
  });

  it("sends the key, JSON body, accept header and unknown extra fields as given", async () => {
    upstream.handle(json(200, completion("ok")));
    const client = createClient({ apiKey: "di-test-key-123456", baseURL: `${upstream.baseURL}/`, headers: { "x-client": "a", "x-both": "client" } });
    const params = { model: MODEL, messages, temperature: 0.2, top_k: 40, min_p: 0.05, repetition_penalty: 1.1, some_new_field: { x: 1 } };
    await client.chat.completions.create(params, { headers: { "x-both": "request" } });
    const [req] = upstream.requests;
    expect(req?.path).toBe("/v1/openai/chat/completions");
    expect(req?.method).toBe("POST");
    expect(req?.headers.authorization).toBe("Bearer di-test-key-123456");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.headers.accept).toBe("application/json");
    expect(req?.headers["x-client"]).toBe("a");
    expect(req?.headers["x-both"]).toBe("request");
    expect(req?.body).toEqual(params);
  });

  it("sends no authorization header without a key (proxy mode)", async () => {
    upstream.handle(json(200, completion("ok")));
    await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages });
    expect(upstream.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("looks the global fetch up at call time, not when the client is made", async () => {
    upstream.handle(json(200, completion("ok")));
    const client = createClient({ baseURL: upstream.baseURL });
    const original = globalThis.fetch;
    const seen: string[] = [];
    globalThis.fetch = (input, init) => {
      seen.push(String(input));
      return original(input, init);
    };
    try {
      await client.chat.completions.create({ model: MODEL, messages });
    } finally {
      globalThis.fetch = original;
    }
    expect(seen).toEqual([`${upstream.baseURL}/chat/completions`]);
  });

  it("calls an injected fetch without binding it to an object", async () => {
    upstream.handle(json(200, completion("ok")));
    let receiver: unknown = "unset";
    const injected = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      receiver = this;
      return fetch(input, init);
    } as typeof fetch;
    await createClient({ baseURL: upstream.baseURL, fetch: injected }).chat.completions.create({ model: MODEL, messages });
    expect(receiver).toBeUndefined();
  });
});

describe("streaming create", () => {
  it("yields typed chunks and ends at [DONE]", async () => {
    upstream.handle(streamReply(["Hel", "lo", " wörld"], usage(9, 3, 0.000004)));
    const client = createClient({ baseURL: upstream.baseURL });
    const stream = client.chat.completions.create({ model: MODEL, messages, stream: true });
    // A ChatStream is a type, not an exported class: its constructor is the SDK's.
    expect(typeof stream[Symbol.asyncIterator]).toBe("function");
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(["", "Hel", "lo", " wörld", ""]);
    expect(chunks.at(-1)?.usage?.estimated_cost).toBe(0.000004);
    expect(upstream.requests[0]?.headers.accept).toBe("text/event-stream");
    expect(upstream.requests[0]?.body.stream).toBe(true);
  });

  it("finalChatCompletion accumulates content, finish_reason and usage, with or without iterating", async () => {
    upstream.handle(streamReply(["A", "B", "C"], usage(5, 3, 0.1)));
    const client = createClient({ baseURL: upstream.baseURL });
    const alone = await client.chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(alone.choices[0]?.message.content).toBe("ABC");
    expect(alone.choices[0]?.finish_reason).toBe("stop");
    expect(alone.usage).toEqual(usage(5, 3, 0.1));

    const stream = client.chat.completions.create({ model: MODEL, messages, stream: true });
    const texts: string[] = [];
    for await (const text of stream.textStream) texts.push(text);
    expect(texts).toEqual(["A", "B", "C"]);
    expect((await stream.finalChatCompletion()).choices[0]?.message.content).toBe("ABC");
  });

  it("accumulates tool-call deltas by index", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ role: "assistant", tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_", arguments: "" } }] })));
      res.write(sse(chunk({ tool_calls: [{ index: 1, id: "call_2", type: "function", function: { name: "time", arguments: "{}" } }] })));
      res.write(sse(chunk({ tool_calls: [{ index: 0, function: { name: "weather", arguments: '{"city":' } }] })));
      res.write(sse(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] })));
      res.write(sse(chunk({}, { finish_reason: "tool_calls", usage: usage(30, 12) })));
      res.end(sse("[DONE]"));
    });
    const result = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(result.choices[0]?.message).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        { id: "call_2", type: "function", function: { name: "time", arguments: "{}" } },
      ],
    });
    expect(result.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("accepts usage in a separate final chunk with no choices (stream_options.include_usage)", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "x" })));
      res.write(sse(chunk({}, { finish_reason: "length" })));
      res.write(sse({ ...chunk({}), choices: [], usage: usage(3, 1) }));
      res.end(sse("[DONE]"));
    });
    const result = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(result.choices[0]?.finish_reason).toBe("length");
    expect(result.usage?.total_tokens).toBe(4);
  });

  it("ignores keep-alive comments", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      const events = replyEvents(["a", "b"]);
      res.write(": keep-alive\n\n");
      for (const e of events) res.write(`: ping\n${e}`);
      res.end();
    });
    const result = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(result.choices[0]?.message.content).toBe("ab");
  });

  it("accepts the end of the body after finish_reason even without [DONE]", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      for (const e of replyEvents(["done"]).slice(0, -1)) res.write(e);
      res.end();
    });
    const result = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(result.choices[0]?.message.content).toBe("done");
  });

  it("does not crash on a raw special token leaking into content", async () => {
    upstream.handle(streamReply(["Hi", "</s>"]));
    const result = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(result.choices[0]?.message.content).toBe("Hi</s>");
  });

  it("delivers events as they arrive: the server holds event 2 until the client has seen event 1", async () => {
    const seen = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "first" })));
      const released = await Promise.race([seen.opened.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
      res.write(sse(chunk({ content: released ? "second" : "TIMEOUT" }, { finish_reason: "stop" })));
      res.end(sse("[DONE]"));
    });
    const texts: string[] = [];
    for await (const text of createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).textStream) {
      texts.push(text);
      seen.open();
    }
    expect(texts).toEqual(["first", "second"]);
  });

  it("refuses a second iteration", async () => {
    upstream.handle(streamReply(["x"]));
    const stream = createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true });
    for await (const _ of stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/already been iterated/);
  });

  it("toSSEStream re-encodes the stream as SSE that parses back to the same chunks", async () => {
    upstream.handle(streamReply(["x", "y"]));
    const client = createClient({ baseURL: upstream.baseURL });
    const body = toSSEStream(client.chat.completions.create({ model: MODEL, messages, stream: true }));
    const data: string[] = [];
    for await (const event of parseSSE(body)) data.push(event.data);
    expect(data.at(-1)).toBe("[DONE]");
    const contents = data.slice(0, -1).map((d) => JSON.parse(d).choices[0].delta.content);
    expect(contents).toEqual(["", "x", "y", ""]);
  });

  it("toSSEStream forwards a mid-stream server error as an error event the next client types", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "partial" })));
      res.end(sse({ error: { message: "Model overloaded", code: 503 } }));
    });
    const client = createClient({ baseURL: upstream.baseURL });
    const relayed = toSSEStream(client.chat.completions.create({ model: MODEL, messages, stream: true }));
    const events = [];
    for await (const event of parseSSE(relayed)) events.push(event);
    expect(events.at(-1)?.event).toBe("error");
    expect(JSON.parse(events.at(-1)!.data).error.code).toBe(503);
  });
});

describe("toSSEStream as a relay", () => {
  it("forwards upstream comments and sends keep-alives during silence", async () => {
    const release = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(": upstream-ping\n\n");
      res.write(sse(chunk({ content: "a" })));
      await release.opened;
      res.end(sse(chunk({ content: "" }, { finish_reason: "stop" })) + sse("[DONE]"));
    });
    const relayed = toSSEStream(createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }), { keepAliveMs: 40 });
    const comments: string[] = [];
    const data: string[] = [];
    // The upstream stays silent after the first event until a keep-alive has come through the relay.
    const onComment = (c: string) => {
      comments.push(c);
      if (c === "keep-alive") release.open();
    };
    for await (const event of parseSSE(relayed, { onComment })) data.push(event.data);
    expect(comments[0]).toBe("upstream-ping");
    expect(comments).toContain("keep-alive");
    expect(data.at(-1)).toBe("[DONE]");
  });

  it("cancelling it aborts the request at once, even while the model is silent", async () => {
    upstream.handle(async (req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "Hel" })));
      await Promise.race([req.closed, new Promise((r) => setTimeout(r, 5000))]);
      if (!res.destroyed) res.end();
    });
    const reader = toSSEStream(createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }), { keepAliveMs: 0 }).getReader();
    await reader.read();
    const pending = reader.read();
    const started = Date.now();
    await reader.cancel("gone");
    await pending;
    await upstream.requests[0]!.closed;
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("connections", () => {
  it("reuses the connection after a stream that ended with [DONE]: the body's end is read, not cancelled", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      for (const e of replyEvents(["x"])) res.write(e);
      // The end of the body comes a little after [DONE], as it does from real servers.
      setTimeout(() => res.end(), 5);
    });
    const client = createClient({ baseURL: upstream.baseURL });
    // Back to back, as a chat does: the next request starts the moment the previous reply is done.
    for (let i = 0; i < 5; i++) await client.chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    // Cancelling at [DONE] would cost a new connection per request (5); undici hands a socket back to its pool
    // a tick after the body ends, so one back-to-back request may still open a second.
    expect(new Set(upstream.requests.map((r) => r.connection)).size).toBeLessThanOrEqual(2);
  });
});
