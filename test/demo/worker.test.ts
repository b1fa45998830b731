// The demo Worker's proxy rules, in workerd (miniflare), with a local Node server standing in for DeepInfra.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../../demo/worker/dev.mjs";
import { createClient, RateLimitError } from "../../src/index.ts";
import { completion, gate, json, MODEL, replyEvents, sse, startSSE, startUpstream, streamReply, type Upstream, wait } from "../helpers/upstream.ts";

const TOKEN = "di-secret-token-7f3a9c1e5b2d";
const PAGE = "https://chat.example";
const CAP = 1000;
const BODY_LIMIT = 64 * 1024;
const RATE = 5;

let upstream: Upstream;
let worker: RunningWorker;
beforeAll(async () => {
  upstream = await startUpstream();
  worker = await startWorker({
    port: 0,
    env: {
      DEEPINFRA_TOKEN: TOKEN,
      UPSTREAM_URL: upstream.baseURL,
      ALLOWED_ORIGINS: `${PAGE}, https://other-page.example`,
      MAX_TOKENS_CAP: CAP,
      MAX_BODY_BYTES: BODY_LIMIT,
      RATE_LIMIT_REQUESTS: RATE,
      RATE_LIMIT_WINDOW_SECONDS: 60,
    },
  });
});
afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
});

// Every test is its own client (CF-Connecting-IP) so that only the rate-limit test meets the limit.
let clients = 0;
const nextIP = () => `198.51.100.${++clients}`;

/** Every response the Worker gave in this file: none may carry the token, in a header or in the body. */
const seen: { where: string; text: string }[] = [];

async function call(path: string, init: RequestInit & { ip?: string } = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", init.ip ?? nextIP());
  const response = await fetch(`${worker.url}${path}`, { ...init, headers });
  const text = await response.text();
  const head = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  seen.push({ where: `${init.method ?? "GET"} ${path}`, text: `${head}\n\n${text}` });
  expect(head + text).not.toContain(TOKEN);
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {}
  return { response, text, body };
}

const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Hi" }], ...extra });
const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}, ip?: string) =>
  call("/v1/openai/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    ...(typeof body === "string" ? {} : { duplex: "half" }),
    ...(ip ? { ip } : {}),
  } as RequestInit);

/** The OpenAI error shape, `{"error":{"message","type","code"}}`, with the given status and code. */
function expectOpenAIError(result: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(result.response.status).toBe(status);
  expect(result.response.headers.get("content-type")).toBe("application/json");
  expect(result.body).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: expect.toSatisfy((p) => p === null || typeof p === "string"), code } });
  expect(result.body.error.message.length).toBeGreaterThan(10);
}

describe("origins and CORS", () => {
  it("answers a preflight from an allowed origin, allowing the headers it asks for", async () => {
    const { response, text } = await call("/v1/openai/chat/completions", {
      method: "OPTIONS",
      headers: { origin: PAGE, "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-client-version" },
    });
    expect(response.status).toBe(204);
    expect(text).toBe("");
    expect(response.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")?.split(", ")).toEqual(expect.arrayContaining(["content-type", "x-client-version"]));
    expect(response.headers.get("access-control-max-age")).toBe("600");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("rejects a preflight and a request from another origin with 403, and no CORS grant", async () => {
    upstream.handle(json(200, completion("should not be reached")));
    const preflight = await call("/v1/openai/chat/completions", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expectOpenAIError(preflight, 403, "origin_not_allowed");
    expect(preflight.response.headers.get("access-control-allow-origin")).toBeNull();

    const request = await post(chatBody(), { origin: "https://evil.example" });
    expectOpenAIError(request, 403, "origin_not_allowed");
    expect(request.response.headers.get("access-control-allow-origin")).toBeNull();
    expect(request.response.headers.get("vary")).toContain("Origin");
    // An origin that only looks like an allowed one is another origin.
    expectOpenAIError(await post(chatBody(), { origin: `${PAGE}.evil.example` }), 403, "origin_not_allowed");
    expectOpenAIError(await post(chatBody(), { origin: "null" }), 403, "origin_not_allowed");
    expect(upstream.requests).toHaveLength(0);
  });

  it("grants an allowed origin and exposes Retry-After; a request without Origin (not a page) passes without a grant", async () => {
    upstream.handle(json(200, completion("ok")));
    const page = await post(chatBody(), { origin: "https://other-page.example" });
    expect(page.response.status).toBe(200);
    expect(page.response.headers.get("access-control-allow-origin")).toBe("https://other-page.example");
    expect(page.response.headers.get("access-control-expose-headers")).toContain("retry-after");
    expect(page.response.headers.get("vary")).toContain("Origin");

    const server = await post(chatBody());
    expect(server.response.status).toBe(200);
    expect(server.response.headers.get("access-control-allow-origin")).toBeNull();
    expect(upstream.requests).toHaveLength(2);
  });
});

describe("routes", () => {
  it("answers 404 on any other path and 405 on a wrong method, in the error shape, with CORS for the page", async () => {
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/v1/openai/models"],
      ["POST", "/v1/openai/completions"],
      ["POST", "/v1/openai/chat/completions/"],
      ["POST", "/chat/completions"],
    ]) {
      const result = await call(path!, { method: method!, headers: { origin: PAGE } });
      expectOpenAIError(result, 404, "not_found");
      expect(result.response.headers.get("access-control-allow-origin")).toBe(PAGE);
    }
    const wrong = await call("/v1/openai/chat/completions", { method: "GET" });
    expectOpenAIError(wrong, 405, "method_not_allowed");
    expect(wrong.response.headers.get("allow")).toBe("POST, OPTIONS");
  });

  it("GET /v1/openai/info says which mode the page talks to, without the token", async () => {
    const { response, body } = await call("/v1/openai/info", { headers: { origin: PAGE } });
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      mode: "deepinfra",
      models: ["meta-llama/Llama-3.2-90B-Vision-Instruct", "meta-llama/Llama-3.2-11B-Vision-Instruct"],
      contextWindow: 32768,
      maxTokens: CAP,
      maxBodyBytes: BODY_LIMIT,
      rateLimit: { requests: RATE, windowSeconds: 60 },
    });
    expect(body.simulated).toBeUndefined();
  });
});

describe("request rules", () => {
  it("refuses a model that is not allowed (400) without calling upstream", async () => {
    upstream.handle(json(200, completion("ok")));
    const result = await post(chatBody({ model: "meta-llama/Meta-Llama-3.1-405B-Instruct" }));
    expectOpenAIError(result, 400, "model_not_allowed");
    expect(result.body.error.param).toBe("model");
    expectOpenAIError(await post(JSON.stringify({ messages: [] })), 400, "model_not_allowed");
    expect(upstream.requests).toHaveLength(0);
  });

  it("refuses max_tokens (or max_completion_tokens) above the cap, and sets a missing one to the cap", async () => {
    upstream.handle(json(200, completion("ok")));
    const above = await post(chatBody({ max_tokens: CAP + 1 }));
    expectOpenAIError(above, 400, "max_tokens_too_large");
    expect(above.body.error.param).toBe("max_tokens");
    expectOpenAIError(await post(chatBody({ max_completion_tokens: 5000 })), 400, "max_tokens_too_large");
    expectOpenAIError(await post(chatBody({ max_tokens: "12" })), 400, "invalid_max_tokens");
    expectOpenAIError(await post(chatBody({ max_tokens: 0 })), 400, "invalid_max_tokens");
    expect(upstream.requests).toHaveLength(0);

    for (const max_tokens of [undefined, null, 1, CAP]) expect((await post(chatBody({ max_tokens }))).response.status).toBe(200);
    expect(upstream.requests.map((r) => r.body.max_tokens)).toEqual([CAP, CAP, 1, CAP]);
  });

  it("refuses n other than 1: each extra choice costs a whole reply", async () => {
    upstream.handle(json(200, completion("ok")));
    const result = await post(chatBody({ n: 4 }));
    expectOpenAIError(result, 400, "n_not_allowed");
    expect(result.body.error.param).toBe("n");
    expect(upstream.requests).toHaveLength(0);
    expect((await post(chatBody({ n: 1 }))).response.status).toBe(200);
  });

  it("refuses a body that is not a JSON object (400)", async () => {
    expectOpenAIError(await post("{not json"), 400, "invalid_json");
    expectOpenAIError(await post("[1,2]"), 400, "invalid_body");
  });

  it("refuses an oversized body (413): by Content-Length before reading, and by counting a chunked one", async () => {
    upstream.handle(json(200, completion("ok")));
    const big = chatBody({ padding: "x".repeat(BODY_LIMIT) });
    // Answered before the upload ends, the connection may be reset under a client still sending (undici then
    // throws ECONNRESET instead of showing the 413): that race is the transport's, so it is tried again.
    const refused = async (body: () => string | ReadableStream<Uint8Array>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await post(body());
        } catch (error) {
          if (attempt === 5 || !/ECONNRESET|EPIPE/.test(String((error as { cause?: unknown }).cause))) throw error;
        }
      }
    };
    expectOpenAIError(await refused(() => big), 413, "request_too_large");

    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      let offset = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= bytes.length) return controller.close();
          controller.enqueue(bytes.subarray(offset, offset + 8192));
          offset += 8192;
        },
      });
    };
    expectOpenAIError(await refused(() => chunked(big)), 413, "request_too_large");
    expect(upstream.requests).toHaveLength(0);
    // Just under the limit, chunked: read, counted, forwarded.
    const fits = chatBody({ padding: "x".repeat(BODY_LIMIT - 200) });
    expect((await post(chunked(fits))).response.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
  });

  it("passes tools, tool_choice, response_format, tool results and assistant tool_calls through unchanged, under the same rules; tool definitions count toward the body limit", async () => {
    upstream.handle(json(200, completion("ok")));
    const tools = [{ type: "function", function: { name: "local_time", description: "The time", parameters: { type: "object", properties: {} } } }];
    const params = {
      model: MODEL,
      messages: [
        { role: "user", content: "What time is it?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "local_time", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: '{"time":"14:05"}' },
      ],
      tools,
      tool_choice: "auto",
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object", properties: { time: { type: "string" } } }, strict: true } },
      max_tokens: 50,
    };
    expect((await post(JSON.stringify(params))).response.status).toBe(200);
    expect(upstream.requests[0]?.body).toEqual(params);
    // The rules still hold with tools: the cap, the model, n.
    expectOpenAIError(await post(JSON.stringify({ ...params, max_tokens: CAP + 1 })), 400, "max_tokens_too_large");
    expectOpenAIError(await post(JSON.stringify({ ...params, model: "another/model" })), 400, "model_not_allowed");
    expectOpenAIError(await post(JSON.stringify({ ...params, n: 2 })), 400, "n_not_allowed");
    // A request made large by its tools' definitions alone is refused like any other.
    const many = Array.from({ length: 400 }, (_, i) => ({ type: "function", function: { name: `tool_${i}`, description: "d".repeat(200), parameters: { type: "object", properties: {} } } }));
    expect(JSON.stringify({ ...params, tools: many }).length).toBeGreaterThan(BODY_LIMIT);
    for (let attempt = 1; ; attempt++) {
      try {
        expectOpenAIError(await post(JSON.stringify({ ...params, tools: many })), 413, "request_too_large");
        break;
      } catch (error) {
        // As above: a 413 answered before the upload ends may reach undici as a reset instead.
        if (attempt === 5 || !/ECONNRESET|EPIPE/.test(String((error as { cause?: unknown }).cause))) throw error;
      }
    }
    expect(upstream.requests).toHaveLength(1);
  });

  it(`rate-limits each client: ${RATE} requests per window, then 429 with Retry-After`, async () => {
    upstream.handle(json(200, completion("ok")));
    const ip = "203.0.113.77";
    for (let i = 0; i < RATE; i++) expect((await post(chatBody(), {}, ip)).response.status).toBe(200);
    const limited = await post(chatBody(), { origin: PAGE }, ip);
    expectOpenAIError(limited, 429, "rate_limit_exceeded");
    const retryAfter = Number(limited.response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(50); // the window minus the few moments these requests took
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The page can read Retry-After (the SDK waits that long before retrying).
    expect(limited.response.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(limited.response.headers.get("access-control-expose-headers")).toContain("retry-after");
    expect(upstream.requests).toHaveLength(RATE);
    // Other clients are not affected; the SDK sees a RateLimitError for the limited one.
    expect((await post(chatBody(), {}, "203.0.113.78")).response.status).toBe(200);
    const client = createClient({ baseURL: worker.baseURL, maxRetries: 0, headers: { "cf-connecting-ip": ip } });
    const error = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers?.get("retry-after")).toMatch(/^\d+$/);
  });
});

describe("forwarding", () => {
  it("sends the Worker's token and only the proxy's own headers upstream: never the browser's Authorization or cookies", async () => {
    upstream.handle(json(200, completion("ok")));
    const params = { model: MODEL, messages: [{ role: "user", content: "Hi" }], temperature: 0.3, max_tokens: 50 };
    const result = await post(JSON.stringify(params), {
      origin: PAGE,
      authorization: "Bearer browser-supplied-key",
      cookie: "session=abc123",
      referer: `${PAGE}/chat`,
      "x-client-version": "1.2.3",
    });
    expect(result.response.status).toBe(200);
    expect(result.body.choices[0].message.content).toBe("ok");
    const [forwarded] = upstream.requests;
    expect(forwarded?.path).toBe("/v1/openai/chat/completions");
    expect(forwarded?.method).toBe("POST");
    expect(forwarded?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(forwarded?.headers.accept).toBe("application/json");
    for (const name of ["cookie", "origin", "referer", "x-client-version", "cf-connecting-ip"]) expect(forwarded?.headers[name], name).toBeUndefined();
    expect(forwarded?.body).toEqual(params);
  });

  it("streams upstream's SSE through the relay unbuffered, each event with its id and its payload unchanged (lockstep: event 2 is held until the test has read event 1)", async () => {
    const events = replyEvents(["Hel", "lo", " world"]);
    const released = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res, { "x-request-id": "req-123" });
      res.write(events[0]! + events[1]!);
      // A proxy that buffers never lets the client see "Hel", so the gate never opens: the stream says so.
      if (await Promise.race([released.opened.then(() => false), wait(5000).then(() => true)])) res.write(sse("TIMEOUT"));
      for (const event of events.slice(2)) res.write(event);
      res.end();
    });
    const response = await fetch(`${worker.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", origin: PAGE, "cf-connecting-ip": nextIP() },
      body: chatBody({ stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("x-request-id")).toBe("req-123");
    expect(response.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(response.headers.get("edgechat-resume")).toMatch(/^\/v1\/openai\/generations\/[A-Za-z0-9_-]{22}$/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes('"Hel"')) released.open();
    }
    expect(text).not.toContain("TIMEOUT");
    expect(text).toBe(events.map((e, i) => `id: ${i + 1}\n${e}`).join(""));
    expect(text).not.toContain(TOKEN);
    expect(upstream.requests[0]?.headers.accept).toBe("text/event-stream");
    expect(upstream.requests[0]?.body.stream).toBe(true);
  });

  it("works end to end with the SDK pointed at the proxy", async () => {
    upstream.handle(streamReply(["Bon", "jour"]));
    const client = createClient({ baseURL: worker.baseURL, headers: { "cf-connecting-ip": nextIP() } });
    const stream = client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], stream: true });
    const texts: string[] = [];
    for await (const text of stream.textStream) texts.push(text);
    expect(texts).toEqual(["Bon", "jour"]);
    expect((await stream.finalChatCompletion()).usage?.estimated_cost).toBeGreaterThan(0);
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("passes upstream errors through with their status, body and Retry-After, with the token cut out", async () => {
    upstream.handle(json(429, { detail: "Rate limited" }, { "retry-after": "2" }));
    const limited = await post(chatBody(), { origin: PAGE });
    expect(limited.response.status).toBe(429);
    expect(limited.body).toEqual({ detail: "Rate limited" });
    expect(limited.response.headers.get("retry-after")).toBe("2");

    upstream.handle(json(401, { error: { message: `Invalid token: ${TOKEN}` } }, { "set-cookie": "tracking=1" }));
    const echoed = await post(chatBody());
    expect(echoed.response.status).toBe(401);
    expect(echoed.body).toEqual({ error: { message: "Invalid token: [redacted]" } });
    expect(echoed.response.headers.get("set-cookie")).toBeNull();
  });
});

describe("resumable replies (edgechat/relay)", () => {
  /** A streamed chat request as a page sends it, from one client. */
  const stream = (ip: string, origin = PAGE) =>
    fetch(`${worker.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin, "cf-connecting-ip": ip },
      body: chatBody({ stream: true }),
    });
  const generation = (url: string, ip: string, init: RequestInit = {}, origin = PAGE) =>
    fetch(new URL(url, worker.url), { ...init, headers: { origin, "cf-connecting-ip": ip, ...(init.headers as Record<string, string>) } });

  it("lets a page read Edgechat-Resume, and allows GET and DELETE with Last-Event-ID on a generation", async () => {
    const preflight = await call("/v1/openai/generations/AAAAAAAAAAAAAAAAAAAAAA", {
      method: "OPTIONS",
      headers: { origin: PAGE, "access-control-request-method": "DELETE", "access-control-request-headers": "last-event-id" },
    });
    expect(preflight.response.status).toBe(204);
    expect(preflight.response.headers.get("access-control-allow-methods")).toBe("GET, POST, DELETE, OPTIONS");
    expect(preflight.response.headers.get("access-control-allow-headers")?.split(", ")).toContain("last-event-id");
    upstream.handle(streamReply(["Bon", "jour"]));
    const response = await stream(nextIP());
    expect(response.headers.get("access-control-expose-headers")).toContain("edgechat-resume");
    await response.text();
    const wrong = await call("/v1/openai/generations/AAAAAAAAAAAAAAAAAAAAAA", { method: "POST", headers: { origin: PAGE } });
    expectOpenAIError(wrong, 405, "method_not_allowed");
    expect(wrong.response.headers.get("allow")).toBe("GET, DELETE, OPTIONS");
  });

  it("a reader that drops resumes the same reply with Last-Event-ID, from one upstream request; another client (or page) gets a 404", async () => {
    const events = replyEvents(["One ", "reply, ", "resumed."]);
    const released = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(events.slice(0, 3).join(""));
      await released.opened;
      for (const event of events.slice(3)) res.write(event);
      res.end();
    });
    const ip = nextIP();
    const controller = new AbortController();
    const first = await fetch(`${worker.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: PAGE, "cf-connecting-ip": ip },
      body: chatBody({ stream: true }),
      signal: controller.signal,
    });
    const url = first.headers.get("edgechat-resume")!;
    const reader = first.body!.getReader();
    let seen = "";
    while (!seen.includes("id: 3\n")) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    released.open();

    const foreign = await generation(url, "203.0.113.200");
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", code: "generation_not_found" } });
    expect((await generation(url, ip, {}, "https://other-page.example")).status).toBe(404);

    // A same-origin GET carries no Origin (browsers send it on cross-origin requests and non-GET ones only): the
    // page is then known by its Referer. Neither: not that page.
    const sameOrigin = await fetch(new URL(url, worker.url), { headers: { "cf-connecting-ip": ip, referer: `${PAGE}/chat/42`, "last-event-id": "5" } });
    expect(sameOrigin.status).toBe(200);
    await sameOrigin.text();
    expect((await fetch(new URL(url, worker.url), { headers: { "cf-connecting-ip": ip } })).status).toBe(404);

    const again = await generation(url, ip, { headers: { "last-event-id": "3" } });
    expect(again.status).toBe(200);
    expect(again.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(again.headers.get("edgechat-resume")).toBe(url);
    const rest = await again.text();
    expect(rest).toBe(events.slice(3).map((e, i) => `id: ${i + 4}\n${e}`).join(""));
    expect(upstream.requests).toHaveLength(1);
  });

  it("DELETE cancels the generation upstream: DeepInfra sees its connection close, the reader ends with finish_reason cancelled", async () => {
    upstream.handle(async (req, res) => {
      startSSE(res);
      for (let i = 0; !res.closed && i < 500; i++) {
        res.write(sse({ ...JSON.parse(replyEvents([`w${i} `])[1]!.slice(6)) }));
        await wait(10);
      }
      res.end();
      void req;
    });
    const ip = nextIP();
    const response = await stream(ip);
    const url = response.headers.get("edgechat-resume")!;
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes("w3 ")) text += new TextDecoder().decode((await reader.read()).value);
    const cancelled = await generation(url, ip, { method: "DELETE" });
    expect(cancelled.status).toBe(204);
    expect(cancelled.headers.get("access-control-allow-origin")).toBe(PAGE);
    await upstream.requests[0]!.closed;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/"finish_reason":"cancelled"\}\],"edgechat_reason":"cancelled"\}\n\nid: \d+\ndata: \[DONE\]\n\n$/);
    expect(text).not.toContain(TOKEN);
  });

  it("passes a streamed request's refusal (429 and its Retry-After) through as it came, without Edgechat-Resume", async () => {
    upstream.handle(json(429, { detail: "Rate limited" }, { "retry-after": "2" }));
    const response = await stream(nextIP());
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(response.headers.get("edgechat-resume")).toBeNull();
    expect(await response.json()).toEqual({ detail: "Rate limited" });
  });

  it("works with the SDK pointed at the proxy", async () => {
    upstream.handle(streamReply(["Through ", "the relay"]));
    const client = createClient({ baseURL: worker.baseURL, headers: { "cf-connecting-ip": nextIP() } });
    const result = client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], stream: true });
    const final = await result.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("Through the relay");
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("an upstream that fails", () => {
  it("is a 502 in the error shape when the connection breaks before a response", async () => {
    upstream.handle((_req, res) => void res.socket?.destroy());
    const result = await post(chatBody());
    expectOpenAIError(result, 502, "upstream_unreachable");
    expect(result.body.error.type).toBe("server_error");
  });
});

describe("the rate limit's window", () => {
  let strict: RunningWorker;
  beforeAll(async () => {
    strict = await startWorker({ port: 0, env: { DEEPINFRA_TOKEN: TOKEN, UPSTREAM_URL: upstream.baseURL, RATE_LIMIT_REQUESTS: 2, RATE_LIMIT_WINDOW_SECONDS: 1.2 } });
  });
  afterAll(() => strict?.dispose());

  it("slides: a slot frees up when the request that took it is one window old, not when a fixed period ends", async () => {
    upstream.handle(json(200, completion("ok")));
    const send = async () =>
      (await fetch(`${strict.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody() })).status;
    expect(await send()).toBe(200); // A: counted at or before t0
    const t0 = Date.now();
    await wait(600);
    expect(await send()).toBe(200); // B: counted after t0 + 0.6 s
    expect(await send()).toBe(429);
    await wait(t0 + 1250 - Date.now()); // A has left the window; B stays in it until after t0 + 1.8 s
    expect(await send()).toBe(200);
    expect(await send()).toBe(429);
  });
});

describe("a server of your own (UPSTREAM_URL, no token: e.g. llama.cpp's llama-server)", () => {
  let own: RunningWorker;
  beforeAll(async () => {
    own = await startWorker({ port: 0, env: { UPSTREAM_URL: upstream.baseURL } });
  });
  afterAll(() => own?.dispose());

  it("is forwarded to, without a key, streamed through the relay, and named in /info", async () => {
    expect(own.mode).toBe("server");
    const info = (await (await fetch(`${own.baseURL}/info`)).json()) as { mode: string; simulated?: unknown };
    expect(info.mode).toBe("server");
    expect(info.simulated).toBeUndefined();
    upstream.handle(streamReply(["Hello ", "from ", "llama.cpp"]));
    const before = upstream.requests.length;
    const stream = createClient({ baseURL: own.baseURL, maxRetries: 0 }).chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    for await (const t of stream.textStream) text += t;
    expect(text).toBe("Hello from llama.cpp");
    expect(stream.resumable?.url).toContain("/v1/openai/generations/");
    const sent = upstream.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.authorization).toBeUndefined();
  });
});

describe("the token", () => {
  it("appeared in no response of this file, header or body", () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const { where, text } of seen) expect(text, where).not.toContain(TOKEN);
  });
});
