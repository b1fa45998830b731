import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryAfterMs, retryDelay } from "../../src/client/retry.ts";
import {
  ConnectionError,
  createClient,
  InternalServerError,
  RateLimitError,
  type RetryInfo,
  StreamInterruptedError,
  UserAbortError,
} from "../../src/index.ts";
import { chunk, completion, json, MODEL, sse, startSSE, startUpstream, streamReply, type Upstream } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const messages = [{ role: "user" as const, content: "Hello" }];

describe("retries", () => {
  it("retries a 429 and succeeds, honouring Retry-After in seconds", async () => {
    upstream.handle(json(429, { detail: "Rate limited" }, { "retry-after": "0.05" }), json(200, completion("finally")));
    const retries: RetryInfo[] = [];
    const client = createClient({ baseURL: upstream.baseURL, onRetry: (info) => retries.push(info) });
    const result = await client.chat.completions.create({ model: MODEL, messages });
    expect(result.choices[0]?.message.content).toBe("finally");
    expect(upstream.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.attempt).toBe(1);
    expect(retries[0]?.delayMs).toBe(50);
    expect(retries[0]?.error).toBeInstanceOf(RateLimitError);
  });

  it("prefers retry-after-ms", async () => {
    upstream.handle(json(503, { detail: "loading" }, { "retry-after-ms": "20", "retry-after": "30" }), json(200, completion("ok")));
    const delays: number[] = [];
    await createClient({ baseURL: upstream.baseURL, onRetry: (i) => delays.push(i.delayMs) }).chat.completions.create({ model: MODEL, messages });
    expect(delays).toEqual([20]);
  });

  it("retries 500s up to maxRetries, then throws the last error", async () => {
    upstream.handle(json(500, { error: { message: "boom" } }, { "retry-after-ms": "1" }));
    const client = createClient({ baseURL: upstream.baseURL, maxRetries: 3 });
    await expect(client.chat.completions.create({ model: MODEL, messages })).rejects.toBeInstanceOf(InternalServerError);
    expect(upstream.requests).toHaveLength(4);
  });

  it("a per-request maxRetries overrides the client's", async () => {
    upstream.handle(json(502, "bad gateway", { "retry-after-ms": "1" }));
    const client = createClient({ baseURL: upstream.baseURL, maxRetries: 5 });
    await expect(client.chat.completions.create({ model: MODEL, messages }, { maxRetries: 1 })).rejects.toBeInstanceOf(InternalServerError);
    expect(upstream.requests).toHaveLength(2);
  });

  it("does not retry what cannot succeed (400, 401, 404, 422)", async () => {
    for (const status of [400, 401, 404, 422]) {
      upstream.handle(json(status, { detail: "no" }));
      await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages }).catch(() => {});
      expect(upstream.requests, `status ${status}`).toHaveLength(1);
    }
  });

  it("follows x-should-retry from the server", async () => {
    upstream.handle(json(500, { detail: "permanent" }, { "x-should-retry": "false" }));
    await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages }).catch(() => {});
    expect(upstream.requests).toHaveLength(1);
  });

  it("retries a refused connection, then throws ConnectionError", async () => {
    const retries: RetryInfo[] = [];
    // Port 9 on loopback: nothing listens, so the connection is refused at once.
    const client = createClient({ baseURL: "http://127.0.0.1:9/v1/openai", maxRetries: 1, onRetry: (i) => retries.push(i) });
    const error = await client.chat.completions.create({ model: MODEL, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.cause).toBeDefined();
    expect(retries).toHaveLength(1);
    expect(retries[0]?.error).toBeInstanceOf(ConnectionError);
  });

  it("retries a stream whose request failed before the body started", async () => {
    upstream.handle(json(429, { detail: "Rate limited" }, { "retry-after-ms": "1" }), streamReply(["ok"]));
    const result = await createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages, stream: true }).finalChatCompletion();
    expect(result.choices[0]?.message.content).toBe("ok");
    expect(upstream.requests).toHaveLength(2);
  });

  it("never retries once a streamed body has started", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "partial" })));
      setTimeout(() => res.destroy(), 20);
    });
    const stream = createClient({ baseURL: upstream.baseURL, maxRetries: 3 }).chat.completions.create({ model: MODEL, messages, stream: true });
    await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(StreamInterruptedError);
    expect(stream.currentText).toBe("partial");
    expect(upstream.requests).toHaveLength(1);
  });

  it("stops at once when aborted during backoff", async () => {
    upstream.handle(json(429, { detail: "Rate limited" }, { "retry-after": "30" }));
    const controller = new AbortController();
    const client = createClient({ baseURL: upstream.baseURL, onRetry: () => setTimeout(() => controller.abort(), 10) });
    const started = Date.now();
    const error = await client.chat.completions.create({ model: MODEL, messages }, { signal: controller.signal }).catch((e) => e);
    expect(error).toBeInstanceOf(UserAbortError);
    // Far less than the 30 s the server asked for: the sleep was cut short, and no second request went out.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("retry delays", () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it("reads Retry-After as seconds, as an HTTP date, and retry-after-ms", () => {
    const now = Date.parse("2026-11-25T12:00:00Z");
    expect(retryAfterMs(headers({ "retry-after": "3" }), now)).toBe(3000);
    expect(retryAfterMs(headers({ "retry-after": "1.5" }), now)).toBe(1500);
    expect(retryAfterMs(headers({ "retry-after": "Wed, 25 Nov 2026 12:00:07 GMT" }), now)).toBe(7000);
    expect(retryAfterMs(headers({ "retry-after": "Wed, 25 Nov 2026 11:00:00 GMT" }), now)).toBe(0);
    expect(retryAfterMs(headers({ "retry-after-ms": "250" }), now)).toBe(250);
    expect(retryAfterMs(headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterMs(headers({}), now)).toBeUndefined();
  });

  it("uses exponential backoff with jitter when there is no hint, and when the hint is over a minute", () => {
    expect(retryDelay(1, undefined, () => 0)).toBe(500);
    expect(retryDelay(2, undefined, () => 0)).toBe(1000);
    expect(retryDelay(3, undefined, () => 0.999)).toBeGreaterThanOrEqual(1500);
    expect(retryDelay(10, undefined, () => 0)).toBe(8000);
    expect(retryDelay(1, headers({ "retry-after": "3600" }), () => 0)).toBe(500);
    expect(retryDelay(1, headers({ "retry-after": "2" }), () => 0)).toBe(2000);
  });
});
