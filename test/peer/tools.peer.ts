// Tools against llama-server (--jinja, Llama 3.2's template): a streamed call read as the server sent it, and
// Conversation's tool loop run step by step against the real template and grammar.
//
// The model is random, so it calls a tool only when made to: `tool_choice: "required"`, which llama.cpp enforces with
// a grammar. For this template (a call is bare JSON, `{"name": …, "parameters": …}`, with no marker before it) that
// grammar is `<header> space [^{]* call`: the reply may begin with any text that has no "{" in it, and may end only
// after one whole call (`parallel_tool_calls` defaults to the template's `supports_parallel_tool_calls`: false). A
// random model writes that text for a while: of 100 questions tried (with a tool like this one), none began a call
// within 48 tokens, and 14 of 40 did within 256. This one, greedily decoded, begins its call by token 63 and ends it
// at token 107; the next step of the loop below calls again, within 53 tokens (found by trying, as the question was).
import * as v from "valibot";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  type AssistantMessage,
  type ChatCompletion,
  type ChatCompletionChunk,
  Conversation,
  type ConversationParams,
  type ConversationStore,
  createMemoryStore,
  InternalServerError,
  type Message,
  type ToolRunner,
} from "../../src/index.ts";
import { tool, toolset } from "../../src/tools/index.ts";
import { type Exchange, MODEL, peer, peerClient, recordingClient, serverPost, sseChunks } from "./peer.ts";

const QUESTION = "Is it warm in Madrid?";
const DESCRIPTION = "The weather in a city for the next days";
/** Bounded (a string of at most 16 characters, an integer 1–7), so the grammar ends a call within a few dozen tokens. */
const Forecast = v.object({
  city: v.pipe(v.string(), v.maxLength(16)),
  days: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(7)),
});
type Forecast = v.InferOutput<typeof Forecast>;

/** A tool whose `execute` keeps every call it gets. */
function forecastTool() {
  const calls: { args: Forecast; callId: string }[] = [];
  const weather = tool({
    description: DESCRIPTION,
    parameters: Forecast,
    execute: (args, { callId }) => {
      expectTypeOf(args).toEqualTypeOf<Forecast>();
      calls.push({ args, callId });
      return { ...args, sky: "sunny", celsius: 20 + calls.length };
    },
  });
  return { weather, calls };
}

/** The request a Conversation with `toolset({ weather })` makes first, by hand. */
const definitions = toolset({ weather: forecastTool().weather }).params(1).tools!;
const request = {
  model: MODEL,
  messages: [{ role: "user" as const, content: QUESTION }],
  tools: definitions,
  tool_choice: "required" as const,
  max_tokens: 160,
  temperature: 0,
};

/** The tool calls of raw chunks folded by hand: by index, the id and name as they come, the arguments appended. */
function foldByHand(chunks: any[]) {
  const calls: { id: string; name: string; arguments: string }[] = [];
  let content = "";
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = (calls[delta.index] ??= { id: "", name: "", arguments: "" });
        call.id += delta.id ?? "";
        call.name += delta.function?.name ?? "";
        call.arguments += delta.function?.arguments ?? "";
      }
    }
  }
  return { calls, content };
}

describe("a streamed request with tool_choice: required", () => {
  let exchanges: Exchange[];
  let chunks: ChatCompletionChunk[];
  let final: ChatCompletion;
  beforeAll(async () => {
    const recording = recordingClient();
    exchanges = recording.exchanges;
    const stream = recording.client.chat.completions.create({ ...request, stream: true });
    chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    final = await stream.finalChatCompletion();
  });

  it("finalChatCompletion() has the call the raw deltas make, folded by hand: same id, name and arguments, valid JSON of the schema; finish_reason tool_calls", () => {
    expect(exchanges).toHaveLength(1);
    const raw = sseChunks(exchanges[0]!.body);
    const byHand = foldByHand(raw);
    expect(byHand.calls).toHaveLength(1);
    const [choice] = final.choices;
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(raw.filter((c) => c.choices.length > 0).at(-1).choices[0].finish_reason).toBe("tool_calls");
    expect(choice?.message.tool_calls).toEqual(byHand.calls.map(({ id, name, arguments: args }) => ({ id, type: "function", function: { name, arguments: args } })));

    // How llama.cpp streams a call: the id, type and whole name with the first piece of the arguments ("{"), then the
    // arguments in pieces of a token or so, nothing else; and the SDK's chunks carry the very same deltas.
    const deltas = raw.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toEqual({ index: 0, id: expect.stringMatching(/^\w{32}$/), type: "function", function: { name: "weather", arguments: "{" } });
    expect(deltas.length).toBeGreaterThan(10);
    for (const delta of deltas.slice(1)) expect(Object.keys(delta.function)).toEqual(["arguments"]);
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual(deltas);

    const call = choice!.message.tool_calls![0]!;
    expect(call.function.name).toBe("weather");
    const args = v.parse(Forecast, JSON.parse(call.function.arguments));
    expect(args.city.length).toBeLessThanOrEqual(16);
    // The text the grammar let come first: every content delta, and no "{" in it.
    expect(choice?.message.content).toBe(byHand.content);
    expect(byHand.content).not.toContain("{");
    expect(byHand.content.length).toBeGreaterThan(0);
  });

  it("the same request not streamed makes the same call (greedy), under an id of its own", async () => {
    const streamed = final.choices[0]!;
    const completion = await peerClient().chat.completions.create(request);
    const [choice] = completion.choices;
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBe(streamed.message.content);
    expect(choice?.message.tool_calls).toHaveLength(1);
    const call = choice!.message.tool_calls![0]!;
    const sameCall = streamed.message.tool_calls![0]!;
    expect(call.function).toEqual(sameCall.function);
    expect(call.id).toEqual(expect.stringMatching(/^\w{32}$/));
    expect(call.id).not.toBe(sameCall.id);
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(request.max_tokens);
  });
});

/** A stream read to its end or its failure: the text it gave, and what it failed with. */
async function readAll(stream: AsyncIterable<ChatCompletionChunk>) {
  let text = "";
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  } catch (error) {
    return { text, error };
  }
  return { text, error: undefined };
}

describe("tool_choice other than required, against this template", () => {
  // With "auto" llama.cpp has no grammar for this template (it would be triggered by the marker before a call, and a
  // bare-JSON call has none), but it still parses the reply as "text without {, then calls": when the model writes a
  // "{" that does not begin a call, the server ends the stream with an error event (a 500 when not streamed).
  const PEG_ERROR = "The model produced output that does not match the expected peg-native format";

  it("auto: a '{' in the text that is no call ends the stream with llama.cpp's error event, read as an InternalServerError after the text", async () => {
    const { client, exchanges } = recordingClient();
    const { text, error } = await readAll(client.chat.completions.create({ ...request, tool_choice: "auto", stream: true }));
    expect(exchanges.map((e) => e.status)).toEqual([200]);
    const raw = sseChunks(exchanges[0]!.body);
    expect(raw.at(-1)).toEqual({ error: { code: 500, message: PEG_ERROR, type: "server_error" } });
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).message).toContain(PEG_ERROR);
    expect(text.length).toBeGreaterThan(0);
    expect(text).toBe(foldByHand(raw.slice(0, -1)).content);
  });

  it("llama.cpp takes tool_choice as a string only: { type: 'function', function: { name } } is ignored, as 'auto' (the same text, the same error)", async () => {
    const client = peerClient();
    const named = await readAll(client.chat.completions.create({ ...request, tool_choice: { type: "function", function: { name: "weather" } }, stream: true }));
    const auto = await readAll(client.chat.completions.create({ ...request, tool_choice: "auto", stream: true }));
    expect(named.text).toBe(auto.text);
    expect(named.error).toBeInstanceOf(InternalServerError);
    expect((named.error as Error).message).toBe((auto.error as Error).message);
  });

  it("a Conversation with a toolset and no tool_choice (auto) meets that error mid-reply: the reply fails with it, its text kept, not sent again", async () => {
    const { weather, calls } = forecastTool();
    const { chat, exchanges } = await toolChat(toolset({ weather }));
    const reply = chat.send(QUESTION);
    await expect(reply.done).rejects.toBeInstanceOf(InternalServerError);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.request.tool_choice).toBeUndefined();
    const [, message] = chat.messages;
    expect(message).toMatchObject({ role: "assistant", status: "error", error: { name: "InternalServerError" } });
    expect(message!.content).toBe(foldByHand(sseChunks(exchanges[0]!.body).slice(0, -1)).content);
    expect(calls).toEqual([]);
  });
});

/** The active path as the store holds it. */
const stored = async (store: ConversationStore, chat: Conversation): Promise<Message[]> => (await store.loadMessages(chat.id, { limit: Infinity })).messages;

/**
 * A Conversation against the peer, on a memory store, its requests recorded: `params` at temperature 0 (Conversation
 * passes them through; the toolset adds `tools`, and `tool_choice: "none"` on the last step).
 */
async function toolChat(tools: ToolRunner, params: ConversationParams = {}, maxOutputTokens = 160) {
  const { client, exchanges } = recordingClient();
  const store = createMemoryStore();
  const chat = await Conversation.create(store, { client, model: MODEL, contextWindow: peer().contextSize, maxOutputTokens, params: { temperature: 0, ...params }, tools });
  return { chat, store, exchanges };
}

describe("a Conversation with a toolset, tool_choice: required in its params", () => {
  it("runs real steps: each call checked and executed, its result sent back and rendered by the template; the last step (maxSteps) is asked with tool_choice none and answers in text; the store holds every call with its result", async () => {
    const { weather, calls } = forecastTool();
    const { chat, store, exchanges } = await toolChat(toolset({ weather }, { maxSteps: 3 }), { tool_choice: "required" });
    const reply = chat.send(QUESTION);
    let text = "";
    for await (const delta of reply) text += delta;
    const last = await reply.done;

    // Three requests, all served: two steps that call, then the step limit.
    expect(exchanges.map((e) => e.status)).toEqual([200, 200, 200]);
    expect(exchanges.map((e) => e.request.tool_choice)).toEqual(["required", "required", "none"]);
    for (const e of exchanges) expect(e.request.tools).toEqual(definitions);

    const [user, ...steps] = chat.messages;
    expect(user).toMatchObject({ role: "user", content: QUESTION });
    expect(steps).toHaveLength(3);
    const [first, second, third] = steps as AssistantMessage[];
    for (const step of [first!, second!]) {
      expect(step).toMatchObject({ role: "assistant", status: "complete", finishReason: "tool_calls" });
      expect(step.toolCalls).toHaveLength(1);
      expect(step.toolCalls![0]).toMatchObject({ name: "weather", state: "done" });
    }
    // Each call was validated and run once, with its own arguments and id, and its result stored with it.
    expect(calls).toHaveLength(2);
    calls.forEach(({ args, callId }, i) => {
      const call = [first!, second!][i]!.toolCalls![0]!;
      expect(callId).toBe(call.id);
      expect(args).toEqual(v.parse(Forecast, JSON.parse(call.arguments)));
      expect(call.result).toEqual({ ...args, sky: "sunny", celsius: 21 + i });
    });
    expect(first!.toolCalls![0]!.id).not.toBe(second!.toolCalls![0]!.id);
    // The step limit: the third step was asked with tool_choice "none", so it is text, cut at max_tokens.
    expect(last.id).toBe(third!.id);
    expect(third!.toolCalls).toBeUndefined();
    expect(third).toMatchObject({ role: "assistant", finishReason: "length", status: "interrupted" });
    expect(third!.usage!.completion_tokens).toBe(160);
    // Iterating the reply gave the text of every step (the text each calling step wrote before its call too).
    expect(text).toBe(steps.map((s) => s.content).join(""));

    // What went back to the server: each call with its result, as OpenAI's messages.
    const [, , lastRequest] = exchanges;
    expect(lastRequest!.request.messages).toEqual([
      { role: "user", content: QUESTION },
      ...[first!, second!].flatMap((step) => {
        const call = step.toolCalls![0]!;
        return [
          { role: "assistant", content: step.content, tool_calls: [{ id: call.id, type: "function", function: { name: "weather", arguments: call.arguments } }] },
          { role: "tool", tool_call_id: call.id, content: JSON.stringify(call.result) },
        ];
      }),
    ]);
    // ...and the template made of them Llama 3.2's own: the call as {"name", "parameters"} (the arguments parsed and
    // written again by its `tojson`, Python's separators), the result under ipython (a string, so `tojson` quotes it).
    const { prompt } = await serverPost<{ prompt: string }>("/apply-template", { messages: lastRequest!.request.messages, tools: definitions });
    const tojson = (o: object) => `{${Object.entries(o).map(([k, value]) => `${JSON.stringify(k)}: ${JSON.stringify(value)}`).join(", ")}}`;
    for (const step of [first!, second!]) {
      const call = step.toolCalls![0]!;
      expect(prompt).toContain(`<|start_header_id|>assistant<|end_header_id|>\n\n{"name": "weather", "parameters": ${tojson(JSON.parse(call.arguments))}}<|eot_id|>`);
      expect(prompt).toContain(`<|start_header_id|>ipython<|end_header_id|>\n\n${JSON.stringify(JSON.stringify(call.result))}<|eot_id|>`);
    }

    // The store holds the same: each call in the step that made it, with its result.
    expect(await stored(store, chat)).toEqual(chat.messages);
  });

  it("arguments the grammar allows but the valibot schema refuses (a check JSON Schema cannot say) go back to the model as that call's error, never run, never a crash", async () => {
    const known = ["Madrid", "Lisbon", "Athens"];
    let runs = 0;
    const weather = tool({
      description: DESCRIPTION,
      parameters: v.object({
        city: v.pipe(v.string(), v.maxLength(16), v.check((city) => known.includes(city), "not a city I know")),
        days: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(7)),
      }),
      execute: () => void runs++,
    });
    // The check is not in the JSON Schema sent, so not in the grammar: the server sees the same tool as above.
    expect(weather.jsonSchema).toEqual(definitions[0]!.function.parameters);

    const { chat, store, exchanges } = await toolChat(toolset({ weather }, { maxSteps: 2 }), { tool_choice: "required" });
    const last = await chat.send(QUESTION).done;

    expect(exchanges.map((e) => e.status)).toEqual([200, 200]);
    const [, first, second] = chat.messages as [Message, AssistantMessage, AssistantMessage];
    expect(first).toMatchObject({ status: "complete", finishReason: "tool_calls" });
    const call = first.toolCalls![0]!;
    // Well-formed JSON of the JSON Schema (the grammar saw to that), a city nobody knows.
    expect(() => v.parse(Forecast, JSON.parse(call.arguments))).not.toThrow();
    expect(known).not.toContain(JSON.parse(call.arguments).city);
    expect(call).toMatchObject({ state: "error", result: "Invalid arguments: city: not a city I know" });
    expect(runs).toBe(0);
    // The model is told, and asked again (the last step: tool_choice none).
    expect(exchanges[1]!.request.tool_choice).toBe("none");
    expect(exchanges[1]!.request.messages.at(-1)).toEqual({ role: "tool", tool_call_id: call.id, content: "Invalid arguments: city: not a city I know" });
    expect(last.id).toBe(second.id);
    expect(second.toolCalls).toBeUndefined();
    expect(chat.messages.some((m) => m.role === "assistant" && m.status === "error")).toBe(false);
    expect(await stored(store, chat)).toEqual(chat.messages);
  });

  // Found here: a call cut short at max_tokens was sent back as written (with "Not run: no result."), and llama.cpp,
  // which parses the arguments of every call in the history, refused that send and every later one with a 500
  // "Failed to parse tool call arguments as JSON". A cut step's calls now stay `input`: never run, never sent.
  it("a step cut by max_tokens inside a call: the call is not run, and the next send is well-formed and served", async () => {
    const { weather, calls } = forecastTool();
    // maxOutputTokens 96: the call begins at token 63 and would end at 107.
    const { chat, exchanges } = await toolChat(toolset({ weather }, { maxSteps: 2 }), { tool_choice: "required" }, 96);
    const cut = await chat.send(QUESTION).done;
    expect(cut).toMatchObject({ status: "interrupted", finishReason: "length" });
    expect(exchanges[0]!.body).toContain('"tool_calls"');
    expect(cut.toolCalls).toMatchObject([{ state: "input" }]);
    expect(calls).toEqual([]);

    await chat.send("And in Lisbon?").done;
    expect(exchanges.map((e) => e.status)).toEqual([200, 200]);
    // No call with arguments that are not JSON was sent.
    for (const message of exchanges[1]!.request.messages) for (const c of message.tool_calls ?? []) expect(() => JSON.parse(c.function.arguments)).not.toThrow();
  });
});
