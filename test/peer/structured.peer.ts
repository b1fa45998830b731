// Structured output (edgechat/structured) against llama-server: `response_format: json_schema` from a valibot schema,
// which llama.cpp turns into a grammar, so even a random model writes a value of the schema. Everything in the schema
// is bounded (strings by maxLength, numbers by min/max, the array by its length) so that the value ends within
// max_tokens; the grammar lets the model put up to ~20 spaces, tabs or newlines between any two tokens of JSON, and a
// random model likes them, so a value of ~80 characters takes ~150 tokens.
import * as v from "valibot";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { type AssistantMessage, type ChatMessage, Conversation, createMemoryStore } from "../../src/index.ts";
import { createObject, ObjectValidationError, responseFormat, sendObject, streamObject, valueOf } from "../../src/structured/index.ts";
import { type Exchange, MODEL, peer, recordingClient, sseChunks } from "./peer.ts";

const Recipe = v.object({
  title: v.pipe(v.string(), v.maxLength(24)),
  servings: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(12)),
  vegetarian: v.boolean(),
  course: v.picklist(["starter", "main", "dessert"]),
  steps: v.pipe(v.array(v.pipe(v.string(), v.maxLength(16))), v.minLength(1), v.maxLength(3)),
});
interface RecipeType {
  title: string;
  servings: number;
  vegetarian: boolean;
  course: "starter" | "main" | "dessert";
  steps: string[];
}

const messages: ChatMessage[] = [{ role: "user", content: "A pancake recipe." }];
const MAX_TOKENS = 300;
const params = { model: MODEL, messages, schema: Recipe, max_tokens: MAX_TOKENS, temperature: 0 };

/** The text of a streamed exchange, its content deltas joined by hand. */
const rawText = (exchange: Exchange) =>
  sseChunks(exchange.body)
    .map((c) => c.choices[0]?.delta?.content ?? "")
    .join("");

/**
 * Whether `partial` is a beginning of `final`, as a value streaming in must be: its object keys the first keys of
 * `final`, in order, and its array items the first items, all equal but the last, which is a beginning of its own; a
 * string a prefix; a number, boolean or null whole.
 */
function isPrefix(partial: unknown, final: unknown): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (typeof partial === "string") return typeof final === "string" && final.startsWith(partial);
  if (Array.isArray(partial)) {
    return Array.isArray(final) && partial.length <= final.length && partial.every((item, i) => (i < partial.length - 1 ? same(item, final[i]) : isPrefix(item, final[i])));
  }
  if (partial !== null && typeof partial === "object") {
    if (final === null || typeof final !== "object" || Array.isArray(final)) return false;
    const keys = Object.keys(partial);
    const finalKeys = Object.keys(final);
    if (!same(keys, finalKeys.slice(0, keys.length))) return false;
    const p = partial as Record<string, unknown>;
    const f = final as Record<string, unknown>;
    return keys.every((key, i) => (i < keys.length - 1 ? same(p[key], f[key]) : isPrefix(p[key], f[key])));
  }
  return Object.is(partial, final);
}

/** Every partial a beginning of the next and of the final value, the last one the final value itself. */
function expectGrowingInto(partials: unknown[], final: unknown) {
  expect(partials.length).toBeGreaterThan(5);
  partials.forEach((partial, i) => {
    expect(isPrefix(partial, final), `partial ${i} ${JSON.stringify(partial)} of ${JSON.stringify(final)}`).toBe(true);
    if (i > 0) expect(isPrefix(partials[i - 1], partial), `partial ${i - 1} of partial ${i}`).toBe(true);
  });
  expect(partials.at(-1)).toEqual(final);
}

/** streamObject's run, read once for the cases below: its partial values (copied), its value, its exchanges. */
let streamed: { partials: unknown[]; value: RecipeType; text: string; exchanges: Exchange[]; finishReason: string | null | undefined };
beforeAll(async () => {
  const { client, exchanges } = recordingClient();
  const stream = streamObject(client, params);
  const partials: unknown[] = [];
  // Partial values are live (completed in place): copy each to keep it.
  for await (const partial of stream) partials.push(structuredClone(partial));
  const value = await stream.value;
  expectTypeOf(value).toEqualTypeOf<RecipeType>();
  streamed = { partials, value, text: stream.text, exchanges, finishReason: (await stream.completion).choices[0]?.finish_reason };
});

describe("streamObject with a valibot schema (json_schema: llama.cpp's grammar)", () => {
  it("one request, the schema as response_format (auto mode: llama.cpp takes it, no fallback); it ends by itself", () => {
    const { exchanges, finishReason } = streamed;
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.status).toBe(200);
    expect(exchanges[0]!.request.response_format).toEqual(responseFormat(Recipe));
    expect(exchanges[0]!.request.response_format.json_schema.schema).toMatchObject({ type: "object", required: ["title", "servings", "vegetarian", "course", "steps"] });
    expect(finishReason).toBe("stop");
  });

  it("the final value is valid, typed, and JSON.parse of the raw text", () => {
    const { value, text, exchanges } = streamed;
    expect(text).toBe(rawText(exchanges[0]!));
    expect(value).toEqual(JSON.parse(text));
    expect(v.parse(Recipe, value)).toEqual(value);
  });

  it("every partial value is a beginning of the next and of the final value", () => {
    expectGrowingInto(streamed.partials, streamed.value);
  });

  it("createObject (not streamed) gets the same value (greedy decoding)", async () => {
    const { value, completion } = await createObject(recordingClient().client, params);
    expectTypeOf(value).toEqualTypeOf<RecipeType>();
    expect(value).toEqual(streamed.value);
    expect(completion.choices[0]!.message.content).toBe(streamed.text);
  });
});

describe("mode json_object (llama.cpp takes { type: 'json_object' }: a grammar of any JSON object)", () => {
  it("the schema goes in the system text, and the server makes the reply a JSON object; a schema whose properties are all optional takes the one it wrote", async () => {
    const Note = v.object({
      title: v.optional(v.pipe(v.string(), v.maxLength(24))),
      tags: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(12))), v.maxLength(3))),
    });
    const { client, exchanges } = recordingClient();
    const stream = streamObject(client, { ...params, schema: Note, mode: "json_object" });
    const value = await stream.value;
    expectTypeOf(value).toEqualTypeOf<{ title?: string | undefined; tags?: string[] | undefined }>();

    expect(exchanges).toHaveLength(1);
    const { request } = exchanges[0]!;
    expect(request.response_format).toEqual({ type: "json_object" });
    expect(request.messages[0]).toMatchObject({ role: "system", content: expect.stringContaining('"tags":') });
    expect(request.messages.slice(1)).toEqual(messages);
    const text = rawText(exchanges[0]!);
    expect(value).toEqual(JSON.parse(text));
    expect(JSON.parse(text)).toBeTypeOf("object");
    expect((await stream.completion).choices[0]?.finish_reason).toBe("stop");
  });

  it("a schema the model does not follow (the grammar is any object, not the schema): an ObjectValidationError naming the path, with the text, not a crash", async () => {
    const { client, exchanges } = recordingClient();
    const stream = streamObject(client, { ...params, mode: "json_object" });
    const error: unknown = await stream.value.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((await stream.completion).choices[0]?.finish_reason).toBe("stop");
    const text = rawText(exchanges[0]!);
    // What the server guaranteed: one JSON object, here of one key the model made up.
    const written = JSON.parse(text);
    expect(written).toBeTypeOf("object");
    expect(written).not.toHaveProperty("title");
    expect(error).toBeInstanceOf(ObjectValidationError);
    expect((error as ObjectValidationError).text).toBe(text);
    expect((error as ObjectValidationError).message).toBe('Invalid reply value: title: Invalid key: Expected "title" but received undefined');
  });
});

describe("sendObject on a Conversation", () => {
  it("a typed value, partial values that grow into it, and the reply stored as its JSON text (valueOf reads it back)", async () => {
    const { client, exchanges } = recordingClient();
    const store = createMemoryStore();
    const chat = await Conversation.create(store, { client, model: MODEL, contextWindow: peer().contextSize, maxOutputTokens: MAX_TOKENS, params: { temperature: 0 } });
    const answer = sendObject(chat, messages[0]!.content as string, { schema: Recipe });
    const partials: unknown[] = [];
    for await (const partial of answer) partials.push(structuredClone(partial));
    const value = await answer.value;
    expectTypeOf(value).toEqualTypeOf<RecipeType>();
    const reply = await answer.reply.done;

    expect(exchanges.map((e) => e.status)).toEqual([200]);
    expect(exchanges[0]!.request.response_format).toMatchObject({ type: "json_schema" });
    expect(exchanges[0]!.request.messages).toEqual(messages);
    expect(reply).toMatchObject({ role: "assistant", status: "complete", finishReason: "stop", content: rawText(exchanges[0]!) });
    expect(value).toEqual(JSON.parse(reply.content));
    expectGrowingInto(partials, value);
    // The same messages and schema as streamObject's request, greedily: the same value.
    expect(value).toEqual(streamed.value);

    const { messages: stored } = await store.loadMessages(chat.id, { limit: Infinity });
    expect(stored).toEqual(chat.messages);
    expect(stored.at(-1)).toMatchObject({ id: reply.id, content: reply.content });
    const again = await valueOf(stored.at(-1) as AssistantMessage, Recipe);
    expectTypeOf(again).toEqualTypeOf<RecipeType>();
    expect(again).toEqual(value);
  });
});
