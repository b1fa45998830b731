// The demo Worker without DEEPINFRA_TOKEN: the simulated model, in workerd, read with the project's own SDK.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../../demo/worker/dev.mjs";
import {
  APIError,
  type ChatCompletionChunk,
  type ChatMessage,
  type Client,
  CONTINUE_PROMPT,
  ContextLengthError,
  Conversation,
  createClient,
  InternalServerError,
  RateLimitError,
  UnprocessableEntityError,
  UserAbortError,
} from "../../src/index.ts";
import { CONTINUE_PROMPT as SIMULATOR_CONTINUE_PROMPT, LOST_PLACE } from "../../demo/worker/simulated/continue.ts";
import { parseSSE } from "../../src/sse/index.ts";
import { type Fixture, fixtures } from "./fixtures/images.ts";
import { dataURL, encodePng } from "./helpers/png.ts";

const M90 = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const M11 = "meta-llama/Llama-3.2-11B-Vision-Instruct";

let worker: RunningWorker;
let client: Client;
beforeAll(async () => {
  // A fast pace keeps the suite quick; /slow caps itself at 10 tokens/s whatever this says.
  worker = await startWorker({ port: 0, env: { SIMULATED_TOKENS_PER_SECOND: 100_000, RATE_LIMIT_REQUESTS: 10_000 } });
  client = createClient({ baseURL: worker.baseURL, maxRetries: 0 });
});
afterAll(() => worker?.dispose());

/** The simulation's stated estimate: 5 + Σ(4 + ⌈characters / 4⌉) + Σ(1 + 1,601 × tiles). */
const estimate = (texts: string[], tiles: number[] = []) =>
  5 + texts.reduce((s, t) => s + 4 + Math.ceil(t.length / 4), 0) + tiles.reduce((s, n) => s + 1 + 1601 * n, 0);
const cost = (model: string, p: number, c: number) => (model === M90 ? p * 0.35 + c * 0.4 : (p + c) * 0.049) / 1e6;
const user = (content: ChatMessage["content"]) => ({ role: "user", content }) as ChatMessage;
const raw = (body: unknown) =>
  fetch(`${worker.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const image = (url: string) => ({ type: "image_url" as const, image_url: { url } });
const rgbOf = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

describe("the simulated model's replies", () => {
  const conversation: ChatMessage[] = [
    { role: "system", content: "You are terse." },
    user("Hello there, how are you today?"),
    { role: "assistant", content: "Fine, thanks." },
    user("Count these five words please,\nand this line: ünïcödé ✓"),
  ];
  const last = "Count these five words please,\nand this line: ünïcödé ✓";
  const prompt = estimate(["You are terse.", "Hello there, how are you today?", "Fine, thanks.", last]);

  it("GET /info says it is simulated", async () => {
    const info = await (await fetch(`${worker.baseURL}/info`)).json();
    expect(info).toMatchObject({ mode: "simulated", contextWindow: 32768, contextWindows: { [M90]: 32768, [M11]: 131072 }, maxTokens: 4096 });
    expect(info.simulated.commands.map((c: { name: string }) => c.name)).toEqual(["/help", "/ratelimit", "/context", "/error", "/slow", "/xss"]);
  });

  it("non-streaming: says it is simulated and reports facts computed from the request, with DeepInfra's usage", async () => {
    const result = await client.chat.completions.create({ model: M90, messages: conversation });
    const content = result.choices[0]!.message.content!;
    expect(result.object).toBe("chat.completion");
    expect(result.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(result.model).toBe(M90);
    expect(result.choices[0]!.finish_reason).toBe("stop");
    expect(content).toMatch(/^\*\*Simulated reply\.\*\* No language model ran/);
    expect(content).toContain("Your last message: **10 words**, **55 characters**, 2 lines.");
    expect(content).toContain(`The conversation: **4 messages** (1 system, 2 user, 1 assistant), about **${prompt} prompt tokens**`);
    expect(content).toContain("`max_tokens` 4,096 (the proxy's cap: the request set none), not streamed.");
    // Markdown for the page's renderer: a list, `code`, **bold**.
    expect(content).toMatch(/^- /m);
    expect(content).toMatch(/`[^`]+`/);
    const u = result.usage!;
    expect(u.prompt_tokens).toBe(prompt);
    expect(u.completion_tokens).toBeGreaterThan(50);
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.estimated_cost).toBeCloseTo(cost(M90, u.prompt_tokens, u.completion_tokens), 12);
  });

  it("streaming: role chunk first, one delta per token, finish_reason + usage (with estimated_cost), then [DONE]", async () => {
    const response = await raw({ model: M90, messages: conversation, stream: true, temperature: 0.5 });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const events: string[] = [];
    for await (const event of parseSSE(response.body!)) events.push(event.data);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((d) => JSON.parse(d));
    const [first, ...rest] = chunks;
    const final = rest.pop();
    expect(first.choices[0]).toEqual({ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null });
    for (const c of chunks) expect(c).toMatchObject({ id: first.id, object: "chat.completion.chunk", created: first.created, model: M90 });
    for (const c of rest) {
      expect(c.choices[0].finish_reason).toBeNull();
      expect(c.usage).toBeUndefined();
      expect(Object.keys(c.choices[0].delta)).toEqual(["content"]);
    }
    expect(final.choices[0]).toMatchObject({ delta: { role: "assistant", content: "" }, finish_reason: "stop" });
    expect(final.usage).toEqual({
      prompt_tokens: prompt,
      completion_tokens: rest.length,
      total_tokens: prompt + rest.length,
      estimated_cost: expect.closeTo(cost(M90, prompt, rest.length), 12),
    });
    expect(rest.map((c) => c.choices[0].delta.content).join("")).toContain("streamed, temperature 0.5.");
  });

  it("streaming through the SDK: typed chunks, and finalChatCompletion() has usage.estimated_cost", async () => {
    const stream = client.chat.completions.create({ model: M90, messages: conversation, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const final = await stream.finalChatCompletion();
    const nonStreamed = await client.chat.completions.create({ model: M90, messages: conversation });
    expect(final.choices[0]!.message.content).toBe(nonStreamed.choices[0]!.message.content!.replace("not streamed", "streamed"));
    expect(final.usage?.estimated_cost).toBeGreaterThan(0);
    expect(final.usage?.completion_tokens).toBe(chunks.length - 2);
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const stream = client.chat.completions.create({ model: M90, messages: conversation, stream: true, max_tokens: 7 });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("length");
    expect(final.usage?.completion_tokens).toBe(7);
    expect(final.choices[0]!.message.content).toBe("**Simulated reply.** No language model");
  });

  it("prices the 11B model by its own assumed price and knows its context window", async () => {
    const result = await client.chat.completions.create({ model: M11, messages: [user("Hi")] });
    const u = result.usage!;
    expect(u.estimated_cost).toBeCloseTo(cost(M11, u.prompt_tokens, u.completion_tokens), 12);
    expect(result.choices[0]!.message.content).toContain("The context window of this model is 131,072 tokens.");
  });

  it("says what it is not: an unknown command gets the facts and a pointer to /help", async () => {
    const content = (await client.chat.completions.create({ model: M90, messages: [user("/frobnicate now")] })).choices[0]!.message.content!;
    expect(content).toContain("`/frobnicate` is not a command I know; `/help` lists them.");
  });

  it("answers a request that does not validate with FastAPI's 422", async () => {
    const response = await raw({ model: M90 });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({ detail: [{ type: "missing", loc: ["body", "messages"], msg: "Field required" }] });
    const error = await client.chat.completions.create({ model: M90, messages: [{ role: "robot", content: "x" } as never] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect((error as UnprocessableEntityError).details[0]?.loc).toEqual(["body", "messages", 0, "role"]);
  });

  it("lets the demo page's default origin in (wrangler.jsonc's ALLOWED_ORIGINS)", async () => {
    const response = await fetch(`${worker.baseURL}/info`, { headers: { origin: "http://localhost:5173" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect((await fetch(`${worker.baseURL}/info`, { headers: { origin: "https://elsewhere.example" } })).status).toBe(403);
  });
});

describe("image facts computed from the bytes", () => {
  const ask = async (...urls: string[]) => {
    const result = await client.chat.completions.create({ model: M90, messages: [user([{ type: "text", text: "What is this?" }, ...urls.map(image)])] });
    return { content: result.choices[0]!.message.content!, usage: result.usage! };
  };

  it("a PNG made here (real zlib, every filter): size, dominant colour and its share, tiles in the prompt estimate", async () => {
    // 64×48, dodger blue with a 16×12 red block: 1 − 192/3072 = 93.75 % blue.
    const png = encodePng({ width: 64, height: 48, colourType: 2, pixel: (x, y) => (x < 16 && y < 12 ? [255, 0, 0] : [30, 144, 255]) });
    const { content, usage } = await ask(dataURL(png, "image/png"));
    expect(content).toContain(
      `- Image 1 (data URL declared \`image/png\`, ${png.length} bytes): **PNG, 64 × 48 px** (8-bit RGB); dominant colour **#1e90ff** (nearest name: blue), 94% of the opaque pixels; 1 tile → about 1,602 prompt tokens.`,
    );
    expect(usage.prompt_tokens).toBe(estimate(["What is this?"], [1]));
  });

  it("a JPEG (mozjpeg, 4:2:0), a GIF and a WebP in one message: each described, the one-image limit noted", async () => {
    const url = (f: Fixture, type: string) => dataURL(new Uint8Array(Buffer.from(f.base64, "base64")), type);
    const { content, usage } = await ask(url(fixtures.jpegRestart, "image/jpeg"), url(fixtures.gifTwoColours, "image/gif"), url(fixtures.webpLossy, "image/webp"));
    const jpeg = /- Image 1 \(.*?\): \*\*JPEG, 64 × 40 px\*\* \(baseline, 8-bit, 3 components, 4:2:0\); dominant colour \*\*(#[0-9a-f]{6})\*\* \(nearest name: teal\), 75% of the area/.exec(content);
    expect(jpeg, content).not.toBeNull();
    rgbOf(jpeg![1]!).forEach((v, i) => expect(Math.abs(v - [0, 128, 128][i]!)).toBeLessThanOrEqual(4));
    expect(content).toContain("**GIF, 30 × 20 px**; dominant colour **#ff0000** (nearest name: red), 67% of the opaque pixels");
    expect(content).toContain("**WebP, 45 × 31 px** (lossy (VP8)); 1 tile");
    expect(content).toContain("  - could not determine dominant colour: WebP pixels are not decoded by the simulator");
    expect(content).toContain("Llama 3.2 Vision reads **one image per request**");
    expect(usage.prompt_tokens).toBe(estimate(["What is this?"], [1, 1, 1]));
  });

  it("does not guess: remote URLs and unreadable bytes are 'could not determine', and 4 tiles are assumed", async () => {
    const { content, usage } = await ask("https://images.example/cat.jpg", "data:image/png;base64,AAECAwQFBgc=");
    expect(content).toContain("- Image 1 (a URL on images.example): format and size unknown; size unknown, so 4 tiles assumed → about 6,405 prompt tokens.");
    expect(content).toContain("  - could not determine size and colour: the simulator does not download images, only reads data: URLs");
    expect(content).toContain("  - could not determine format, size and colour: the bytes are not an image format the simulator recognises");
    expect(usage.prompt_tokens).toBe(estimate(["What is this?"], [4, 4]));
  });

  it("describes only the last message's images; earlier ones count in the estimate", async () => {
    const png = dataURL(encodePng({ width: 1200, height: 500, colourType: 0, pixel: () => [200] }), "image/png");
    const result = await client.chat.completions.create({
      model: M90,
      messages: [user([{ type: "text", text: "Look" }, image(png)]), { role: "assistant", content: "Seen." }, user("And now?")],
    });
    const content = result.choices[0]!.message.content!;
    expect(content).toContain("- 1 earlier image in the conversation: counted in the estimate, not described again.");
    expect(content).not.toContain("Image 1");
    // 1200×500 fits a 3×1 canvas of 560-pixel tiles with the least upscaling.
    expect(result.usage?.prompt_tokens).toBe(estimate(["Look", "Seen.", "And now?"], [3]));
  });
});

describe("errors on command, in DeepInfra's shapes, typed by the SDK", () => {
  it("/ratelimit: 429 {detail: 'Rate limited'} with Retry-After: 3; the same request again succeeds", async () => {
    const body = { model: M90, messages: [user("/ratelimit please")] };
    const first = await raw(body);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    expect(await first.json()).toEqual({ detail: "Rate limited" });
    const retry = await raw(body);
    expect(retry.status).toBe(200);
    expect((await retry.json()).choices[0].message.content).toContain("the earlier tries of this exact request got 429, and this retry went through");
  });

  it("/ratelimit n fails n times; the SDK sees a retryable RateLimitError with Retry-After", async () => {
    const messages = [user("/ratelimit 2")];
    for (let i = 0; i < 2; i++) {
      const error = await client.chat.completions.create({ model: M90, messages, stream: true }).finalChatCompletion().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ status: 429, retryable: true, message: "429 Rate limited" });
      expect((error as RateLimitError).headers?.get("retry-after")).toBe("3");
    }
    const final = await client.chat.completions.create({ model: M90, messages, stream: true }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("stop");
  });

  it("/context: DeepInfra's 500 context overflow → ContextLengthError, not retried", async () => {
    const messages = [user("/context")];
    const prompt = estimate(["/context"]);
    const response = await raw({ model: M90, messages });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { message: `Requested input length ${32768 + prompt} exceeds maximum input length 32768` } });
    const error = await createClient({ baseURL: worker.baseURL }).chat.completions.create({ model: M90, messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject({ status: 500, limit: 32768, requested: 32768 + prompt, retryable: false });
  });

  it("a prompt estimated above the model's window gets the same error; the 11B model's larger window takes it", async () => {
    const long = "word ".repeat(28_000); // 140 000 characters ≈ 35 000 tokens
    const error = await client.chat.completions.create({ model: M90, messages: [user(long)], stream: true }).finalChatCompletion().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect((error as ContextLengthError).requested).toBe(estimate([long]));
    const ok = await client.chat.completions.create({ model: M11, messages: [user(long)], max_tokens: 5 });
    expect(ok.usage?.prompt_tokens).toBe(estimate([long]));
  });

  it("/error: a few deltas, then an error event mid-stream → APIError; /error vllm uses vLLM's shape", async () => {
    const stream = client.chat.completions.create({ model: M90, messages: [user("/error")], stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const text of stream.textStream) seen.push(text);
    })().catch((e: unknown) => e);
    expect(seen.length).toBeGreaterThan(5);
    expect(stream.currentText).toContain("then the stream carries an error event instead of the rest.");
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as APIError).message).toBe("500 Internal server error: Simulated failure (/error): the model server stopped generating mid-stream");

    for (const [command, shape] of [
      ["/error", { error: { message: expect.any(String), type: "internal_server_error", code: 500 } }],
      ["/error vllm", { object: "error", message: expect.any(String), type: "InternalServerError", param: null, code: 500 }],
    ] as const) {
      const response = await raw({ model: M90, messages: [user(command)], stream: true });
      expect(response.status).toBe(200);
      const events: string[] = [];
      for await (const event of parseSSE(response.body!)) events.push(event.data);
      expect(JSON.parse(events.at(-2)!)).toEqual(shape);
      expect(events.at(-1)).toBe("[DONE]");
    }
    const nonStreaming = await client.chat.completions.create({ model: M90, messages: [user("/error")] }).catch((e: unknown) => e);
    expect(nonStreaming).toBeInstanceOf(InternalServerError);
  });

  it("/slow: a long reply at 10 tokens/s that the client can stop", async () => {
    const stream = client.chat.completions.create({ model: M90, messages: [user("/slow")], stream: true });
    const started = Date.now();
    let deltas = 0;
    const error = await (async () => {
      for await (const _ of stream.textStream) if (++deltas === 3) stream.abort();
    })().catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(UserAbortError);
    expect(deltas).toBe(3);
    expect(elapsed).toBeGreaterThanOrEqual(250); // 3 tokens at 10/s, whatever the configured pace
    expect(elapsed).toBeLessThan(10_000); // not the ~2 minutes the whole reply takes
    expect(stream.currentText).toContain("Simulated");
  });

  it("/xss: hostile HTML and markdown, verbatim, for the page's safe-rendering test", async () => {
    const content = (await client.chat.completions.create({ model: M90, messages: [user("/xss")] })).choices[0]!.message.content!;
    expect(content).toContain("Simulated reply.");
    for (const hostile of ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[click me](javascript:alert(1))", "<svg onload=alert(1)>"]) {
      expect(content).toContain(hostile);
    }
  });

  it("/help lists every command", async () => {
    const content = (await client.chat.completions.create({ model: M90, messages: [user("/help")] })).choices[0]!.message.content!;
    for (const usage of ["`/help`", "`/ratelimit [n]`", "`/context`", "`/error [vllm]`", "`/slow`", "`/xss`"]) expect(content).toContain(usage);
  });
});

describe("continue(): the simulator carries the reply on instead of starting over", () => {
  const question = user("Tell me about this request, please.");
  /** A streamed reply's text and its number of deltas, read through the relay. */
  const streamed = async (messages: ChatMessage[], max_tokens?: number) => {
    const final = await client.chat.completions.create({ model: M90, messages, stream: true, ...(max_tokens && { max_tokens }) }).finalChatCompletion();
    return { text: final.choices[0]!.message.content!, usage: final.usage!, finish: final.choices[0]!.finish_reason };
  };

  it("recognises the SDK's own CONTINUE_PROMPT", () => {
    expect(SIMULATOR_CONTINUE_PROMPT).toBe(CONTINUE_PROMPT);
  });

  it("sends the rest after the partial text (cut inside a word): partial + rest is the whole reply, usage counts the rest", async () => {
    const whole = await streamed([question]);
    for (const cut of [1, 37, 120, whole.text.length - 3]) {
      const partial = whole.text.slice(0, cut);
      const rest = await streamed([question, { role: "assistant", content: partial }, user(CONTINUE_PROMPT)]);
      expect(partial + rest.text, `cut at ${cut}`).toBe(whole.text);
      expect(rest.finish).toBe("stop");
      expect(rest.usage.completion_tokens).toBeLessThanOrEqual(whole.usage.completion_tokens - (cut > 20 ? 5 : 0));
      expect(rest.usage.prompt_tokens).toBe(estimate([question.content as string, partial, CONTINUE_PROMPT]));
    }
  });

  it("carries a stopped /slow reply on at the usual pace (the slowness is there to leave time for Stop)", async () => {
    const started = Date.now();
    const slow = user("/slow");
    const whole = await streamed([slow, { role: "assistant", content: "" }, user(CONTINUE_PROMPT)]);
    expect(whole.text).toContain("That was all 60 lines.");
    const partial = whole.text.slice(0, whole.text.indexOf("Line 2 of 60"));
    const rest = await streamed([slow, { role: "assistant", content: partial }, user(CONTINUE_PROMPT)]);
    expect(partial + rest.text).toBe(whole.text);
    expect(Date.now() - started).toBeLessThan(10_000); // at 10 tokens/s the 60 lines take minutes
  });

  it("says so when the text so far is not the start of its reply, rather than guess", async () => {
    const rest = await streamed([question, { role: "assistant", content: "Something it never said" }, user(CONTINUE_PROMPT)]);
    expect(rest.text).toBe(LOST_PLACE);
  });

  it("Conversation: a reply stopped mid-way, then continue(), ends as the whole reply, not a restart", async () => {
    const whole = await streamed([user("Hello there")], 1000);
    const chat = new Conversation({ client, model: M90, params: { max_tokens: 1000 } });
    const reply = chat.send("Hello there");
    let deltas = 0;
    await (async () => {
      for await (const _ of reply) if (++deltas === 4) chat.abort();
    })().catch(() => undefined);
    await reply.done.catch(() => undefined);
    const stopped = chat.messages.at(-1);
    expect(stopped).toMatchObject({ role: "assistant", status: "interrupted" });
    const partial = stopped!.content as string;
    expect(whole.text.startsWith(partial) && partial.length < whole.text.length).toBe(true);
    const continued = chat.continue();
    for await (const _ of continued) {}
    expect(await continued.done).toMatchObject({ status: "complete", content: whole.text });
  });
});
