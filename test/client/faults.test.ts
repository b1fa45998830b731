import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APIError,
  ContextLengthError,
  createClient,
  InternalServerError,
  StreamInterruptedError,
  TimeoutError,
  UserAbortError,
  ValidationError,
} from "../../src/index.ts";
import { chunk, completion, json, MODEL, replyEvents, sse, startSSE, startUpstream, type Upstream, wait } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const messages = [{ role: "user" as const, content: "Hello" }];
const streamOnce = (extra: Parameters<typeof createClient>[0] = {}) =>
  createClient({ baseURL: upstream.baseURL, maxRetries: 0, ...extra }).chat.completions.create({ model: MODEL, messages, stream: true });

describe("a stream that breaks", () => {
  it("a connection dropped mid-stream is a StreamInterruptedError, keeping the partial text", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "Hel" })));
      res.write('data: {"id":"x","obj');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const stream = streamOnce();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const text of stream.textStream) seen.push(text);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect(seen).toEqual(["Hel"]);
    expect(stream.currentText).toBe("Hel");
  });

  it("a body that ends cleanly before finish_reason is a StreamInterruptedError, not a short answer", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "cut" })));
      res.end();
    });
    await expect(streamOnce().finalChatCompletion()).rejects.toBeInstanceOf(StreamInterruptedError);
  });

  it("a malformed JSON chunk is a ValidationError", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "ok" })));
      res.end(sse('{"id": "x", "choices": [}'));
    });
    const error = await streamOnce().finalChatCompletion().catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/not JSON/);
  });

  it("a wrong-typed field is a ValidationError naming its path", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.end(sse(chunk({ content: 42 })));
    });
    const error = await streamOnce().finalChatCompletion().catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.path).toBe("choices[0].delta.content");
    expect(error.message).toContain("choices[0].delta.content");
  });

  it("keeps unknown fields of a valid chunk", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse({ ...chunk({ content: "x", reasoning_content: "hmm" }), system_fingerprint: "fp" }));
      res.end(replyEvents([]).slice(-2).join(""));
    });
    const chunks = [];
    for await (const c of streamOnce()) chunks.push(c);
    expect(chunks[0]?.system_fingerprint).toBe("fp");
    expect(chunks[0]?.choices[0]?.delta.reasoning_content).toBe("hmm");
  });

  const midStreamErrors: [string, string, (e: APIError) => void][] = [
    ["OpenAI-style {error}", sse({ error: { message: "Internal error while generating", code: 500 } }), (e) => expect(e).toBeInstanceOf(InternalServerError)],
    [
      "vLLM {object: error}",
      sse({ object: "error", message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion).", type: "BadRequestError", code: 400 }),
      (e) => expect(e).toMatchObject({ limit: 8192, requested: 9000 }),
    ],
    ["event: error", `event: error\ndata: ${JSON.stringify({ message: "upstream went away" })}\n\n`, (e) => expect(e.message).toContain("upstream went away")],
    ["event: error with text data", "event: error\ndata: overloaded\n\n", (e) => expect(e.message).toContain("overloaded")],
  ];
  for (const [name, payload, check] of midStreamErrors) {
    it(`a mid-stream error payload (${name}) raises a typed APIError`, async () => {
      upstream.handle((_req, res) => {
        startSSE(res);
        res.write(sse(chunk({ content: "so far" })));
        res.end(payload);
      });
      const stream = streamOnce();
      const error = await stream.finalChatCompletion().catch((e) => e);
      expect(error).toBeInstanceOf(APIError);
      check(error);
      expect(stream.currentText).toBe("so far");
    });
  }

  it("a vLLM context error mid-stream is a ContextLengthError", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.end(sse({ object: "error", message: "This model's maximum context length is 100 tokens. However, you requested 200 tokens.", code: 400 }));
    });
    await expect(streamOnce().finalChatCompletion()).rejects.toBeInstanceOf(ContextLengthError);
  });

  it("a 200 non-streaming reply with an error body raises a typed APIError", async () => {
    upstream.handle(json(200, { error: { message: "Model crashed", code: 500 } }));
    const error = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.message).toContain("Model crashed");
  });

  it("a non-streaming reply of the wrong shape is a ValidationError", async () => {
    const bad = completion("x") as any;
    bad.choices[0].message.content = ["not", "a", "string"];
    upstream.handle(json(200, bad));
    const error = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.path).toBe("choices[0].message.content");
  });
});

describe("timeouts", () => {
  it("idleTimeout fires when no event comes, and keep-alive comments do not reset it", async () => {
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "one" })));
      for (let i = 0; i < 50 && !res.destroyed; i++) {
        res.write(": keep-alive\n\n");
        await wait(20);
      }
      res.end();
    });
    const stream = streamOnce({ idleTimeout: 200 });
    const error = await stream.finalChatCompletion().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: "idle", timeoutMs: 200 });
    expect(stream.currentText).toBe("one");
  });

  it("idleTimeout does not fire while events keep coming", async () => {
    upstream.handle(async (_req, res) => {
      startSSE(res);
      for (let i = 0; i < 8; i++) {
        res.write(sse(chunk({ content: String(i) })));
        await wait(40);
      }
      res.end(replyEvents([]).slice(-2).join(""));
    });
    const result = await streamOnce({ idleTimeout: 150 }).finalChatCompletion();
    expect(result.choices[0]?.message.content).toBe("01234567");
  });

  it("timeout bounds the whole request, body included", async () => {
    upstream.handle(async (_req, res) => {
      startSSE(res);
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write(sse(chunk({ content: "." })));
        await wait(20);
      }
      res.end();
    });
    const error = await streamOnce({ timeout: 150, idleTimeout: 0 }).finalChatCompletion().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.phase).toBe("request");
  });

  it("timeout before headers is retried, then surfaces as TimeoutError", async () => {
    upstream.handle(async (_req, res) => {
      await wait(1000);
      if (!res.destroyed) res.end();
    });
    const client = createClient({ baseURL: upstream.baseURL, timeout: 60, maxRetries: 1, onRetry: () => {} });
    const error = await client.chat.completions.create({ model: MODEL, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(upstream.requests).toHaveLength(2);
  });
});

describe("cancellation", () => {
  it("abort before headers rejects with UserAbortError and closes the connection", async () => {
    upstream.handle(async (_req, res) => {
      await wait(2000);
      if (!res.destroyed) res.end();
    });
    const controller = new AbortController();
    const pending = createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages }, { signal: controller.signal });
    await wait(50);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(UserAbortError);
    await upstream.requests[0]?.closed;
    expect(upstream.requests).toHaveLength(1);
  });

  it("an already-aborted signal sends nothing", async () => {
    upstream.handle(json(200, completion("x")));
    const pending = createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages }, { signal: AbortSignal.abort() });
    await expect(pending).rejects.toBeInstanceOf(UserAbortError);
    expect(upstream.requests).toHaveLength(0);
  });

  function endlessStream() {
    return async (req: { closed: Promise<void> }, res: import("node:http").ServerResponse) => {
      startSSE(res);
      let open = true;
      void req.closed.then(() => (open = false));
      for (let i = 0; open && i < 500; i++) {
        res.write(sse(chunk({ content: `${i} ` })));
        await wait(5);
      }
      res.end();
    };
  }

  it("stream.abort() during the body ends iteration with UserAbortError and closes the connection", async () => {
    upstream.handle(endlessStream());
    const stream = streamOnce();
    let n = 0;
    const error = await (async () => {
      for await (const _ of stream) if (++n === 3) stream.abort();
    })().catch((e) => e);
    expect(error).toBeInstanceOf(UserAbortError);
    expect(n).toBe(3);
    await upstream.requests[0]?.closed;
    await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(UserAbortError);
  });

  it("a signal aborted during the body ends the stream with UserAbortError", async () => {
    upstream.handle(endlessStream());
    const controller = new AbortController();
    const stream = createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(UserAbortError);
    await upstream.requests[0]?.closed;
  });

  it("breaking out of for await cancels the request", async () => {
    upstream.handle(endlessStream());
    const stream = streamOnce();
    let n = 0;
    for await (const _ of stream) if (++n === 2) break;
    await upstream.requests[0]?.closed;
    expect(n).toBe(2);
  });

  it("an abort after the reply finished is not an error", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      for (const e of replyEvents(["fine"])) res.write(e);
      res.end();
    });
    const stream = streamOnce();
    const result = await stream.finalChatCompletion();
    stream.abort();
    expect(result.choices[0]?.message.content).toBe("fine");
    await expect(stream.finalChatCompletion()).resolves.toBe(result);
  });
});
