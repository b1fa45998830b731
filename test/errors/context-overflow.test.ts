// Every context-overflow shape an OpenAI-compatible server really sends (test/fixtures/context-overflow/, one file
// per shape, each quoting its source) → ContextLengthError with the server's numbers, streaming or not; and errors
// that are not overflows stay what their status says. Then a Conversation told a larger window than llama.cpp serves
// learns the real one from llama.cpp's 400 and trims and retries once.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation } from "../../src/conversation/conversation.ts";
import * as sdk from "../../src/index.ts";
import { APIError, ContextLengthError, createClient } from "../../src/index.ts";
import { llamaPromptTokens } from "../helpers/llama-server.ts";
import { chunk, json, MODEL, sse, startSSE, startUpstream, streamReply, type Upstream, usage } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

interface Fixture {
  server: string;
  source: string;
  looked: string;
  status: number;
  body: unknown;
  note?: string;
  expect: {
    class: keyof typeof sdk;
    limit?: number | null;
    requested?: number | null;
    promptTokens?: number | null;
    completionTokens?: number | null;
    covers?: "prompt" | "prompt+output" | null;
  };
}

const DIR = join(import.meta.dirname, "../fixtures/context-overflow");
const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(join(DIR, file), "utf8")) as Fixture) }));
const positives = fixtures.filter((f) => f.expect.class === "ContextLengthError");
const negatives = fixtures.filter((f) => f.expect.class !== "ContextLengthError");

const messages = [{ role: "user" as const, content: "Hello" }];
const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 2 });

/** The numbers a fixture expects, null meaning "the server did not say". */
function numbers(f: Fixture) {
  const { limit, requested, promptTokens, completionTokens, covers } = f.expect;
  const u = <T>(v: T | null | undefined) => (v === null ? undefined : v);
  return { limit: u(limit), requested: u(requested), promptTokens: u(promptTokens), completionTokens: u(completionTokens), covers: u(covers) };
}

/** What a stream's error event would make of the body: streams carry no HTTP status, only `code` when numeric. */
async function streamed(body: unknown, before: boolean): Promise<unknown> {
  upstream.handle((_req, res) => {
    startSSE(res);
    res.write(sse(chunk({ role: "assistant", content: "" })));
    if (!before) res.write(sse(chunk({ content: "Partial" })));
    res.end(sse(body));
  });
  const stream = await client().chat.completions.create({ model: MODEL, messages, stream: true });
  return stream.finalChatCompletion().then(
    () => expect.fail("should have thrown"),
    (e: unknown) => e,
  );
}

describe("fixtures", () => {
  it("every fixture quotes its source and the date it was looked at", () => {
    expect(positives.length).toBeGreaterThanOrEqual(20);
    expect(negatives.length).toBeGreaterThanOrEqual(5);
    for (const f of fixtures) {
      expect(f.source.length, f.file).toBeGreaterThan(10);
      expect(f.looked, f.file).toMatch(/^\d{4}-\d\d-\d\d$/);
      expect(f.server, f.file).toBeTruthy();
    }
  });
});

describe.each(positives)("$file ($server) → ContextLengthError", (f) => {
  it(`answered as HTTP ${f.status}: typed, with the server's numbers, not retried`, async () => {
    upstream.handle(json(f.status, f.body));
    const error = await client()
      .chat.completions.create({ model: MODEL, messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject({ status: f.status, retryable: false, ...numbers(f) });
    expect({ ...numbers(f) }).toEqual({
      limit: (error as ContextLengthError).limit,
      requested: (error as ContextLengthError).requested,
      promptTokens: (error as ContextLengthError).promptTokens,
      completionTokens: (error as ContextLengthError).completionTokens,
      covers: (error as ContextLengthError).covers,
    });
    expect(upstream.requests).toHaveLength(1);
  });

  it("sent as an error event before the first delta", async () => {
    const error = await streamed(f.body, true);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject(numbers(f));
  });

  it("sent as an error event mid-stream", async () => {
    const error = await streamed(f.body, false);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject(numbers(f));
  });
});

describe.each(negatives)("$file ($server) is not an overflow", (f) => {
  it(`stays a ${f.expect.class}`, async () => {
    upstream.handle(json(f.status, f.body));
    const error = await createClient({ baseURL: upstream.baseURL, maxRetries: 0 })
      .chat.completions.create({ model: MODEL, messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sdk[f.expect.class] as typeof APIError);
    expect(error).not.toBeInstanceOf(ContextLengthError);
  });

  it("nor inside a stream", async () => {
    const error = await streamed(f.body, true);
    expect(error).toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(ContextLengthError);
  });
});

describe("Conversation against llama.cpp's window", () => {
  it("told 4096, served 2048: learns the window from llama.cpp's 400 and completes after one trim-and-retry", async () => {
    const N_CTX = 2048;
    const counted: { prompt: number; maxTokens: number }[] = [];
    /** llama.cpp's answer when the prompt plus max_tokens exceed its window; a streamed reply otherwise. */
    const llamaCpp = (req: { body: any }, res: import("node:http").ServerResponse) => {
      const prompt = llamaPromptTokens(req.body.messages, { datePreamble: false });
      counted.push({ prompt, maxTokens: req.body.max_tokens });
      if (prompt + req.body.max_tokens > N_CTX) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: {
              code: 400,
              message: `request (${prompt} tokens) exceeds the available context size (${N_CTX} tokens), try increasing it`,
              type: "exceed_context_size_error",
              n_prompt_tokens: prompt,
              n_ctx: N_CTX,
            },
          }),
        );
        return;
      }
      streamReply(["It fits."], usage(prompt, 3))(req as never, res);
    };
    const conv = new Conversation({ client: createClient({ baseURL: upstream.baseURL, maxRetries: 0 }), model: MODEL, contextWindow: 4096, maxOutputTokens: 512 });
    // A history that fits 4096 but not 2048.
    for (let i = 0; i < 6; i++) {
      upstream.handle(streamReply([`answer ${i} `.repeat(40)]));
      await conv.send(`Question ${i}: ${"about alpacas, llamas and their wool ".repeat(40)}`).done;
    }
    counted.length = 0;
    upstream.handle(llamaCpp);
    const final = await conv.send("And finally?").done;

    expect(counted).toHaveLength(2);
    expect(counted[0]!.prompt + counted[0]!.maxTokens).toBeGreaterThan(N_CTX);
    expect(counted[1]!.prompt + counted[1]!.maxTokens).toBeLessThanOrEqual(N_CTX);
    expect(final).toMatchObject({ status: "complete", content: "It fits.", contextRetry: true });
    expect(conv.messages.at(-1)).toMatchObject({ contextRetry: true });
    expect(conv.contextWindow).toBe(N_CTX);
    expect(conv.lastContext!.droppedTurns).toBeGreaterThan(0);
  });
});
