// The simulated model's tool calls and JSON answers (issue 18), in workerd, read with the project's own SDK: calls
// streamed as DeepInfra and vLLM stream them, tool_choice respected, answers written from tool results, and JSON
// that parses — and, given a schema, validates against it.
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../../demo/worker/dev.mjs";
import { type ChatMessage, type Client, Conversation, createClient, type Tool as ToolDefinition, UnprocessableEntityError } from "../../src/index.ts";
import { toJSONSchema, validate } from "../../src/schema/standard.ts";
import { createObject } from "../../src/structured/index.ts";
import { parseSSE } from "../../src/sse/index.ts";
import { tool, toolset } from "../../src/tools/index.ts";
import { dataURL, encodePng } from "./helpers/png.ts";

const M90 = "meta-llama/Llama-3.2-90B-Vision-Instruct";

let worker: RunningWorker;
let client: Client;
beforeAll(async () => {
  worker = await startWorker({ port: 0, env: { SIMULATED_TOKENS_PER_SECOND: 100_000, RATE_LIMIT_REQUESTS: 10_000 } });
  client = createClient({ baseURL: worker.baseURL, maxRetries: 0 });
});
afterAll(() => worker?.dispose());

// The demo page's tools, as it declares them (demo/src/tools.ts).
const fn = (name: string, description: string, parameters: Record<string, unknown>): ToolDefinition => ({ type: "function", function: { name, description, parameters } });
const empty = { type: "object", properties: {}, required: [] };
const TOOLS = [
  fn("local_time", "The current date, time and time zone of the user's browser.", empty),
  fn("image_size", "The size of the image the user attached most recently in this conversation: width and height in pixels, bytes, and type.", empty),
  fn("copy_to_clipboard", "Copy text to the user's clipboard. The user is asked to allow it first.", {
    type: "object",
    properties: { text: { type: "string", minLength: 1, maxLength: 20000 } },
    required: ["text"],
  }),
];
const user = (content: ChatMessage["content"]) => ({ role: "user", content }) as ChatMessage;
const raw = (body: unknown) => fetch(`${worker.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const events = async (body: unknown) => {
  const response = await raw({ model: M90, stream: true, ...(body as object) });
  expect(response.status).toBe(200);
  const data: string[] = [];
  for await (const event of parseSSE(response.body!)) data.push(event.data);
  expect(data.at(-1)).toBe("[DONE]");
  return data.slice(0, -1).map((d) => JSON.parse(d));
};
const cost = (p: number, c: number) => (p * 0.35 + c * 0.4) / 1e6;

describe("tool calls", () => {
  it("streams a call as DeepInfra and vLLM do: id, type and name first with empty arguments, then the arguments in pieces, finish_reason tool_calls with usage", async () => {
    const chunks = await events({ messages: [user('Copy "hello there, world" to my clipboard, please.')], tools: TOOLS });
    const [role, ...rest] = chunks;
    const final = rest.pop();
    expect(role.choices[0].delta).toEqual({ role: "assistant", content: "" });
    const deltas = rest.map((c) => c.choices[0].delta.tool_calls);
    expect(deltas.every((d) => Array.isArray(d) && d.length === 1)).toBe(true);
    const [head, ...pieces] = deltas.map((d) => d[0]);
    expect(head).toEqual({ index: 0, id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: "function", function: { name: "copy_to_clipboard", arguments: "" } });
    expect(pieces.length).toBeGreaterThan(3);
    for (const p of pieces) expect(Object.keys(p).sort()).toEqual(["function", "index"]);
    expect(JSON.parse(pieces.map((p) => p.function.arguments).join(""))).toEqual({ text: "hello there, world" });
    expect(final.choices[0].finish_reason).toBe("tool_calls");
    expect(final.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: rest.length,
      total_tokens: final.usage.prompt_tokens + rest.length,
      estimated_cost: expect.closeTo(cost(final.usage.prompt_tokens, rest.length), 12),
    });
  });

  it("through the SDK: finalChatCompletion() has the call, content-less, with usage.estimated_cost", async () => {
    const stream = client.chat.completions.create({ model: M90, messages: [user("What time is it?")], tools: TOOLS, stream: true });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), type: "function", function: { name: "local_time", arguments: "{}" } }]);
    expect(choice.message.content || null).toBeNull();
    expect(final.usage?.estimated_cost).toBeGreaterThan(0);
  });

  it("not streamed: content null and tool_calls, finish_reason tool_calls", async () => {
    const result = await client.chat.completions.create({ model: M90, messages: [user("How big is the image?")], tools: TOOLS });
    expect(result.choices[0]!.finish_reason).toBe("tool_calls");
    expect(result.choices[0]!.message).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: "function", function: { name: "image_size", arguments: "{}" } }],
    });
  });

  it("asked for two things, makes two calls side by side, each with its own index and id", async () => {
    const final = await client.chat.completions.create({ model: M90, messages: [user("What time is it, and how big is this picture?")], tools: TOOLS, stream: true }).finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls!;
    expect(calls.map((c) => c.function.name)).toEqual(["local_time", "image_size"]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
  });

  it("respects tool_choice none (never a call), and a message that asks for nothing a tool does gets text", async () => {
    for (const request of [
      { messages: [user("What time is it?")], tools: TOOLS, tool_choice: "none" as const },
      { messages: [user("Tell me a story about a llama.")], tools: TOOLS },
      { messages: [user("What time is it?")] },
    ]) {
      const final = await client.chat.completions.create({ model: M90, stream: true, ...request }).finalChatCompletion();
      expect(final.choices[0]!.finish_reason).toBe("stop");
      expect(final.choices[0]!.message.tool_calls).toBeUndefined();
      expect(final.choices[0]!.message.content).toContain("Simulated reply.");
    }
  });

  it("tool_choice naming a function calls it; required calls one even unasked; a tool named in the message is called", async () => {
    const named = await client.chat.completions.create({ model: M90, messages: [user("Hello")], tools: TOOLS, tool_choice: { type: "function", function: { name: "image_size" } } });
    expect(named.choices[0]!.message.tool_calls?.map((c) => c.function.name)).toEqual(["image_size"]);
    const required = await client.chat.completions.create({ model: M90, messages: [user("Hello")], tools: TOOLS, tool_choice: "required" });
    expect(required.choices[0]!.message.tool_calls?.map((c) => c.function.name)).toEqual(["local_time"]);
    const weather = fn("weather", "The weather in a city", { type: "object", properties: { city: { type: "string" }, unit: { enum: ["C", "F"] } }, required: ["city"] });
    const byName = await client.chat.completions.create({ model: M90, messages: [user("Use weather for Paris")], tools: [weather] });
    const call = byName.choices[0]!.message.tool_calls![0]!;
    expect(call.function.name).toBe("weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: expect.any(String), unit: "C" });
  });

  it("answers from the tool results: the time, an image's size, a failure, a refusal", async () => {
    const turn = (name: string, args: string, content: string): ChatMessage[] => [
      user("Question"),
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name, arguments: args } }] },
      { role: "tool", tool_call_id: "call_1", content },
    ];
    const answer = async (messages: ChatMessage[]) => {
      const final = await client.chat.completions.create({ model: M90, messages, tools: TOOLS, stream: true }).finalChatCompletion();
      expect(final.choices[0]!.finish_reason).toBe("stop");
      return final.choices[0]!.message.content!;
    };
    const time = JSON.stringify({ time: "14:05", date: "Tuesday 3 March 2026", timeZone: "Europe/Paris", utcOffset: "+01:00" });
    expect(await answer(turn("local_time", "{}", time))).toMatch(/^It is \*\*14:05\*\* on Tuesday 3 March 2026 in Europe\/Paris \(UTC\+01:00\)\./);
    expect(await answer(turn("image_size", "{}", JSON.stringify({ width: 640, height: 480, bytes: 12345, type: "image/png" })))).toMatch(
      /^The image is \*\*640 × 480 px\*\* \(image\/png, 12,345 bytes\)\./,
    );
    expect(await answer(turn("image_size", "{}", "Error: No image is attached in this conversation."))).toMatch(/^`image_size` could not answer: No image is attached/);
    expect(await answer(turn("copy_to_clipboard", '{"text":"x"}', "The user refused to run this call."))).toMatch(/^You declined to let me run `copy_to_clipboard`/);
    expect(await answer(turn("copy_to_clipboard", '{"text":"abc"}', '{"copied":3}'))).toMatch(/^Copied 3 characters to your clipboard\./);
    // Several results: one line each. And a tool result is never answered with another call, even asked again.
    const both = await answer([
      user("What time is it, and how big is the image?"),
      { role: "assistant", content: null, tool_calls: [{ id: "a", type: "function", function: { name: "local_time", arguments: "{}" } }, { id: "b", type: "function", function: { name: "image_size", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "a", content: time },
      { role: "tool", tool_call_id: "b", content: JSON.stringify({ width: 3, height: 2, bytes: 70, type: "image/gif" }) },
    ]);
    expect(both).toMatch(/^- It is \*\*14:05\*\*.*\n- The image is \*\*3 × 2 px\*\*/);
    expect(both).toContain("no language model ran");
  });
});

describe("a Conversation with tools, against the simulator", () => {
  it("asks, runs the tool, sends its result, and streams an answer that says what the tool returned", async () => {
    let runs = 0;
    const localTime = tool({ description: "The current time of the user", parameters: v.object({}), execute: () => (runs++, { time: "09:41", timeZone: "Asia/Tokyo" }) });
    const chat = new Conversation({ client, model: M90, tools: toolset({ local_time: localTime }) });
    const reply = chat.send("What time is it here?");
    let text = "";
    for await (const delta of reply) text += delta;
    const final = await reply.done;
    expect(runs).toBe(1);
    expect(text).toBe(final.content);
    expect(final.content).toMatch(/^It is \*\*09:41\*\* in Asia\/Tokyo\./);
    const [, step] = chat.messages;
    expect(step).toMatchObject({ role: "assistant", finishReason: "tool_calls", toolCalls: [{ name: "local_time", arguments: "{}", state: "done", result: { time: "09:41", timeZone: "Asia/Tokyo" } }] });
  });

  it("an approval the user refuses: the model is told, and says so", async () => {
    let runs = 0;
    const copy = tool({ parameters: v.object({ text: v.string() }), needsApproval: true, execute: () => ++runs });
    const chat = new Conversation({ client, model: M90, tools: toolset({ copy_to_clipboard: copy }) });
    const paused = await chat.send("Copy 'secret' to my clipboard").done;
    expect(paused.toolCalls).toMatchObject([{ name: "copy_to_clipboard", arguments: '{"text":"secret"}', state: "approval" }]);
    const final = await chat.approve(paused.toolCalls![0]!.id, false).done;
    expect(runs).toBe(0);
    expect(final.content).toMatch(/^You declined to let me run `copy_to_clipboard`/);
  });
});

describe("JSON answers", () => {
  const SCHEMAS = {
    stats: v.object({ words: v.number(), characters: v.pipe(v.number(), v.integer(), v.minValue(0)), title: v.pipe(v.string(), v.maxLength(40)), simulated: v.boolean() }),
    nested: v.object({
      sentiment: v.picklist(["positive", "neutral", "negative"]),
      tags: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(3)),
      author: v.object({ email: v.pipe(v.string(), v.email()), homepage: v.optional(v.pipe(v.string(), v.url())), age: v.pipe(v.number(), v.integer(), v.minValue(18), v.maxValue(120)) }),
      note: v.nullable(v.string()),
      when: v.pipe(v.string(), v.isoTimestamp()),
    }),
    list: v.object({ items: v.pipe(v.array(v.object({ id: v.pipe(v.number(), v.integer()), kind: v.literal("thing"), ratio: v.pipe(v.number(), v.minValue(0), v.maxValue(1)) })), v.minLength(4)) }),
    strict: v.strictObject({ answer: v.pipe(v.string(), v.minLength(30)), confidence: v.pipe(v.number(), v.minValue(0.5), v.maxValue(0.9)), variant: v.union([v.literal(1), v.literal(2)]) }),
  };

  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(`json_schema "${name}": streamed in small deltas, a value that validates against the schema sent`, async () => {
      const response_format = { type: "json_schema" as const, json_schema: { name, schema: toJSONSchema(schema), strict: name === "strict" } };
      const chunks = await events({ messages: [user("Summarise my message in the requested shape, please.")], response_format });
      const deltas = chunks.slice(1, -1).map((c) => c.choices[0].delta.content as string);
      expect(deltas.length).toBeGreaterThan(5);
      expect(Math.max(...deltas.map((d) => d.length))).toBeLessThan(60);
      expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
      const value = JSON.parse(deltas.join(""));
      await expect(validate(schema, value, "the answer")).resolves.toEqual(value);
    });
  }

  it("the values come from the request where the names say so", async () => {
    const result = await client.chat.completions.create({
      model: M90,
      messages: [user("Five words are in here")],
      response_format: { type: "json_schema", json_schema: { name: "stats", schema: toJSONSchema(SCHEMAS.stats) } },
    });
    expect(JSON.parse(result.choices[0]!.message.content!)).toEqual({ words: 5, characters: 22, title: "Five words are in here", simulated: true });
  });

  it("json_object: an object that answers with facts about the request; given a schema in the system text (edgechat/structured's fallback), a value of it", async () => {
    const png = dataURL(encodePng({ width: 30, height: 20, colourType: 2, pixel: () => [255, 0, 0] }), "image/png");
    const plain = await client.chat.completions.create({
      model: M90,
      messages: [user([{ type: "text", text: "Describe this image" }, { type: "image_url", image_url: { url: png } }])],
      response_format: { type: "json_object" },
    });
    const value = JSON.parse(plain.choices[0]!.message.content!);
    expect(value).toMatchObject({ simulated: true, message: { text: "Describe this image", words: 3 }, model: M90, images: [{ format: "PNG", width: 30, height: 20, dominant_colour: "#ff0000" }] });

    const schema = toJSONSchema(SCHEMAS.nested);
    const withSchema = await client.chat.completions.create({
      model: M90,
      messages: [{ role: "system", content: `Reply with only a JSON value that matches this JSON Schema, with no other text:\n${JSON.stringify(schema)}` }, user("Go")],
      response_format: { type: "json_object" },
      stream: true,
    }).finalChatCompletion();
    await validate(SCHEMAS.nested, JSON.parse(withSchema.choices[0]!.message.content!), "the answer");
  });

  it("edgechat/structured's createObject gets a valid value both ways: json_schema, and json_object with the schema in the system text", async () => {
    for (const mode of ["json_schema", "json_object"] as const) {
      const { value, completion } = await createObject(client, { model: M90, messages: [user("Five words are in here")], schema: SCHEMAS.stats, mode });
      expect(value).toEqual({ words: 5, characters: 22, title: "Five words are in here", simulated: true });
      expect(completion.choices[0]!.finish_reason).toBe("stop");
    }
  });

  it("asked for JSON in words: a ```json block that parses; and tool results asked for as JSON", async () => {
    const final = await client.chat.completions.create({ model: M90, messages: [user("Give me the stats of this message as JSON")], stream: true }).finalChatCompletion();
    const content = final.choices[0]!.message.content!;
    const block = /^```json\n([\s\S]*)\n```$/.exec(content);
    expect(block).not.toBeNull();
    expect(JSON.parse(block![1]!)).toMatchObject({ simulated: true, message: { words: 9 } });

    const fromResults = await client.chat.completions.create({
      model: M90,
      messages: [
        user("What time is it? Answer as JSON"),
        { role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "local_time", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "t", content: JSON.stringify({ time: "23:59", timeZone: "UTC" }) },
      ],
      tools: TOOLS,
      response_format: { type: "json_schema", json_schema: { name: "t", schema: toJSONSchema(v.object({ time: v.string(), timeZone: v.string() })) } },
    });
    expect(JSON.parse(fromResults.choices[0]!.message.content!)).toEqual({ time: "23:59", timeZone: "UTC" });
  });

  it("max_tokens cuts a JSON answer like any other (finish_reason length)", async () => {
    const result = await client.chat.completions.create({ model: M90, messages: [user("x")], response_format: { type: "json_object" }, max_tokens: 5 });
    expect(result.choices[0]!.finish_reason).toBe("length");
    expect(() => JSON.parse(result.choices[0]!.message.content!)).toThrow();
  });
});

describe("what the simulator refuses (FastAPI's 422, as DeepInfra sends)", () => {
  const refused = async (body: Record<string, unknown>) => {
    const error = await (client.chat.completions.create({ model: M90, messages: [user("Hi")], ...body } as never) as unknown as Promise<unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    return { detail: (error as UnprocessableEntityError).details };
  };

  it("tools that are not a list of functions, a tool_choice it does not know, a response_format of another type", async () => {
    expect((await refused({ tools: { type: "function" } })).detail[0]).toMatchObject({ loc: ["body", "tools"], type: "list_type" });
    expect((await refused({ tools: [{ type: "function", function: { description: "no name" } }] })).detail[0]).toMatchObject({ loc: ["body", "tools", 0, "function", "name"], type: "missing" });
    expect((await refused({ tools: [{ type: "retrieval" }] })).detail[0]).toMatchObject({ loc: ["body", "tools", 0, "type"] });
    expect((await refused({ tool_choice: "sometimes" })).detail[0]).toMatchObject({ loc: ["body", "tool_choice"] });
    expect((await refused({ tools: TOOLS, tool_choice: { type: "function", function: { name: "teleport" } } })).detail[0]).toMatchObject({ loc: ["body", "tool_choice"] });
    expect((await refused({ response_format: { type: "yaml" } })).detail[0]).toMatchObject({ loc: ["body", "response_format", "type"] });
    expect((await refused({ response_format: { type: "json_schema" } })).detail[0]).toMatchObject({ loc: ["body", "response_format", "json_schema"], type: "missing" });
  });

  it("a tool message without tool_call_id, and an assistant's tool_calls without a function", async () => {
    const body = (messages: unknown[]) => ({ messages });
    expect((await refused(body([user("Hi"), { role: "tool", content: "x" }]))).detail[0]).toMatchObject({ loc: ["body", "messages", 1, "tool_call_id"], type: "missing" });
    expect((await refused(body([user("Hi"), { role: "assistant", content: null, tool_calls: [{ id: "c", type: "function" }] }]))).detail[0]).toMatchObject({
      loc: ["body", "messages", 1, "tool_calls", 0, "function"],
      type: "missing",
    });
  });
});
