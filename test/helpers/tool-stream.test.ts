// The tool-call streams of ./tool-stream.ts, fed through the real client (createClient → create({ stream: true }) →
// finalChatCompletion()) from a real local server: every style gives back exactly the calls put in. And the events
// have the shapes the styles promise (a helper that quietly sent the easy shape would test nothing).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatCompletion, createClient, type ToolCall } from "../../src/index.ts";
import { DEFAULT_MODEL, streamEvents, textEvents, toolCallEvents, toolCallText, type ToolCallSpec, type ToolStyle, type WriteOptions } from "./tool-stream.ts";
import { chunk, sse, startUpstream, type Upstream } from "./upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

async function complete(events: string[], write?: WriteOptions): Promise<ChatCompletion> {
  upstream.handle(streamEvents(events, write));
  const client = createClient({ baseURL: upstream.baseURL, apiKey: "k", maxRetries: 0 });
  return client.chat.completions.create({ model: DEFAULT_MODEL, messages: [{ role: "user", content: "What time is it?" }], stream: true }).finalChatCompletion();
}

const asCalls = (specs: readonly ToolCallSpec[]): ToolCall[] => specs.map((s) => ({ id: s.id!, type: "function", function: { name: s.name, arguments: s.arguments } }));

const tokyo: ToolCallSpec = { id: "call_tokyo", name: "get_time", arguments: '{"timezone": "Asia/Tokyo"}' };
const SETS: Record<string, ToolCallSpec[]> = {
  "one call": [tokyo],
  "unicode and escapes": [{ id: "call_ü_😀", name: "get_weather", arguments: '{"city":"Zürich 😀","note":"\\u00fc\\ud83d\\ude00 \\"q\\" \\\\ \\n","n":[1,2.5,null,true]}' }],
  "three in parallel": [tokyo, { id: "call_paris", name: "get_time", arguments: '{"timezone":"Europe/Paris"}' }, { id: "call_w", name: "get_weather", arguments: '{"city":"Lyon"}' }],
  "malformed arguments": [{ id: "call_bad", name: "get_time", arguments: '{"timezone": "Asia/Tok' }],
  "valid JSON, wrong shape": [{ id: "call_shape", name: "get_time", arguments: '[{"tz": 9}, "Asia/Tokyo"]' }],
  "no arguments": [{ id: "call_empty", name: "now", arguments: "" }, { id: "call_obj", name: "now", arguments: "{}" }],
};
const CALL_STYLES: ToolStyle[] = ["openai", "vllm", "late-id", "interleaved"];
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

describe("tool-call streams through the real client give back exactly the calls put in", () => {
  for (const style of CALL_STYLES) {
    it(`${style}: every call set, ${SEEDS.length} seeds, with and without text before the calls`, async () => {
      for (const [set, calls] of Object.entries(SETS)) {
        for (const seed of SEEDS) {
          const content = seed % 2 ? "Let me check the clocks. " : undefined;
          const usage = { prompt_tokens: 200 + seed, completion_tokens: 30, total_tokens: 230 + seed, estimated_cost: 0.0001 * seed };
          const events = toolCallEvents(calls, { style, seed, usage, ...(content !== undefined && { content }) });
          const done = await complete(events);
          const what = `${style}, ${set}, seed ${seed}`;
          expect(done.choices[0]?.message.tool_calls, what).toEqual(asCalls(calls));
          expect(done.choices[0]?.message.content ?? "", what).toBe(content ?? "");
          expect(done.choices[0]?.finish_reason, what).toBe("tool_calls");
          expect(done.usage, what).toEqual(usage);
        }
      }
    });
  }

  it("ollama: a call comes back whole", async () => {
    for (const set of ["one call", "unicode and escapes", "malformed arguments", "valid JSON, wrong shape"]) {
      const calls = SETS[set]!;
      const done = await complete(toolCallEvents(calls, { style: "ollama", seed: 2 }));
      expect(done.choices[0]?.message.tool_calls, set).toEqual(asCalls(calls));
    }
  });

  // Ollama numbers every one of parallel calls 0 (ollama/ollama#15457): a delta of an index another call holds, with
  // an id of its own, starts a new call (as @ai-sdk/openai-compatible does since vercel/ai#14277).
  it("ollama: parallel calls, all at index 0, come back as separate calls", async () => {
    const calls = SETS["three in parallel"]!;
    const done = await complete(toolCallEvents(calls, { style: "ollama" }));
    expect(done.choices[0]?.message.tool_calls).toEqual(asCalls(calls));
  });

  it("nulls for what a delta does not carry, a name sent in every delta, a delta without an index", async () => {
    const events = [
      sse(chunk({ role: "assistant", content: null, tool_calls: null })),
      sse(chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_time", arguments: null } }] })),
      sse(chunk({ tool_calls: [{ index: 0, id: null, type: null, function: { name: "get_time", arguments: '{"tz":' } }] })),
      sse(chunk({ tool_calls: [{ index: 0, function: { name: null, arguments: '"UTC"}' } }] })),
      sse(chunk({ tool_calls: [{ id: "call_b", type: "function", function: { name: "get_weather", arguments: "{}" } }] })),
      sse(chunk({}, { finish_reason: "tool_calls" })),
      sse("[DONE]"),
    ];
    const done = await complete(events);
    expect(done.choices[0]?.message.tool_calls).toEqual([
      { id: "call_a", type: "function", function: { name: "get_time", arguments: '{"tz":"UTC"}' } },
      { id: "call_b", type: "function", function: { name: "get_weather", arguments: "{}" } },
    ]);
  });

  it("ids made up per style: distinct, the server's own kind", async () => {
    const specs = [{ name: "a", arguments: "{}" }, { name: "b", arguments: "{}" }];
    for (const [style, id] of [["openai", /^call_[0-9a-f]{24}$/], ["vllm", /^chatcmpl-tool-[0-9a-f]{32}$/], ["interleaved", /^call_[0-9a-f]{24}$/]] as const) {
      const calls = (await complete(toolCallEvents(specs, { style }))).choices[0]!.message.tool_calls!;
      expect(calls.map((c) => c.function.name)).toEqual(["a", "b"]);
      for (const c of calls) expect(c.id).toMatch(id);
      expect(calls[0]!.id).not.toBe(calls[1]!.id);
    }
  });

  it("the same when the bytes arrive cut anywhere (1 to 3 bytes a write) and slowly", async () => {
    const calls = [...SETS["unicode and escapes"]!, tokyo];
    for (const style of CALL_STYLES) {
      const events = toolCallEvents(calls, { style, seed: 11, content: "Déjà vu 😀 " });
      for (const write of [{ split: 3, seed: 5 }, { delayMs: 2 }]) {
        const done = await complete(events, write);
        expect(done.choices[0]?.message.tool_calls, `${style} ${JSON.stringify(write)}`).toEqual(asCalls(calls));
        expect(done.choices[0]?.message.content).toBe("Déjà vu 😀 ");
      }
    }
  });

  it("text and python-tag: the calls arrive as the model wrote them, in content, finish_reason stop, no tool_calls", async () => {
    for (const style of ["text", "python-tag"] as const) {
      for (const [i, calls] of [[tokyo], SETS["three in parallel"]!, SETS["malformed arguments"]!].entries()) {
        const content = i === 1 ? "Sure. " : "";
        const events = toolCallEvents(calls, { style, seed: i, content });
        const done = await complete(events);
        const text = toolCallText(calls, style, content);
        expect(done.choices[0]?.message).toEqual({ role: "assistant", content: text });
        expect(done.choices[0]?.finish_reason).toBe("stop");
        const pieces = chunks(events).map((c) => c.choices[0].delta.content);
        expect(pieces.includes("<|python_tag|>"), "the tag is one token: one piece").toBe(style === "python-tag");
        expect(text.includes("<|python_tag|>")).toBe(style === "python-tag");
      }
    }
    const [first, second] = SETS["three in parallel"]!;
    expect(toolCallText([first!, second!], "text")).toBe('{"name": "get_time", "parameters": {"timezone": "Asia/Tokyo"}}; {"name": "get_time", "parameters": {"timezone":"Europe/Paris"}}');
  });

  it("a plain text reply (the step after the tools ran), with usage and cost", async () => {
    const done = await complete(textEvents("It is 21:04 in Tokyo — 😀.", { seed: 9, model: "m" }));
    expect(done.model).toBe("m");
    expect(done.choices[0]?.message.content).toBe("It is 21:04 in Tokyo — 😀.");
    expect(done.choices[0]?.finish_reason).toBe("stop");
    expect(done.usage).toMatchObject({ prompt_tokens: 180, estimated_cost: expect.any(Number) });
    expect((await complete(textEvents("x", { usage: null }))).usage).toBeUndefined();
  });
});

/** The chunks of an event list (without [DONE]). */
const chunks = (events: string[]): any[] => {
  for (const e of events) expect(e).toMatch(/^data: .*\n\n$/s);
  expect(events.at(-1)).toBe("data: [DONE]\n\n");
  return events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
};
const toolDeltas = (events: string[]) => chunks(events).flatMap((c) => (c.choices[0]?.delta.tool_calls ?? []) as any[]);

describe("the events have the shapes each style promises", () => {
  const parallel = SETS["three in parallel"]!;

  it("openai: the head (id, type, name, arguments \"\") first, then argument fragments; usage with cost on the finish chunk", () => {
    const events = toolCallEvents(parallel, { style: "openai", seed: 1 });
    const deltas = toolDeltas(events);
    expect(deltas.filter((d) => "id" in d)).toEqual(parallel.map((c, index) => ({ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } })));
    expect(deltas.map((d) => d.index)).toEqual([...deltas.map((d) => d.index)].sort());
    for (const d of deltas.filter((d) => !("id" in d))) expect(Object.keys(d.function)).toEqual(["arguments"]);
    const all = chunks(events);
    expect(all[0].choices[0].delta).toEqual({ role: "assistant", content: null });
    expect(all.at(-1)).toMatchObject({ choices: [{ delta: {}, finish_reason: "tool_calls" }], usage: { estimated_cost: expect.any(Number) } });
  });

  it("vllm: heads with and without first arguments, cuts inside strings and \\u escapes, the last fragment on the finish chunk, usage alone", () => {
    let withArguments = 0;
    let withoutArguments = 0;
    let insideEscape = 0;
    for (const seed of SEEDS) {
      const events = toolCallEvents([...SETS["unicode and escapes"]!, tokyo], { style: "vllm", seed });
      for (const d of toolDeltas(events)) {
        if ("id" in d) (d.function.arguments === undefined ? withoutArguments++ : withArguments++);
        expect(d.id ?? "chatcmpl-tool-").toMatch(/^(call_|chatcmpl-tool-)/);
      }
      // A fragment that ends inside a \uXXXX escape of the first call's arguments.
      let text = "";
      for (const d of toolDeltas(events).filter((d) => d.index === 0)) {
        text += d.function.arguments ?? "";
        if (/\\u[0-9a-f]{0,3}$/.test(text)) insideEscape++;
      }
      const all = chunks(events);
      expect(all.at(-2)).toMatchObject({ choices: [{ finish_reason: "tool_calls", delta: { tool_calls: [{ index: 1, function: { arguments: expect.any(String) } }] } }] });
      expect(all.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 180 } });
      expect(all.at(-1).usage.estimated_cost).toBeUndefined();
    }
    expect([withArguments > 0, withoutArguments > 0, insideEscape > 0]).toEqual([true, true, true]);
  });

  it("late-id: each call's id and name come after its first argument fragment", () => {
    for (const seed of SEEDS) {
      const deltas = toolDeltas(toolCallEvents(parallel, { style: "late-id", seed }));
      for (const index of [0, 1, 2]) {
        const own = deltas.filter((d) => d.index === index);
        expect(own[0].function).toEqual({ arguments: expect.any(String) });
        expect(own.findIndex((d) => "id" in d)).toBeGreaterThan(0);
        expect(own.findIndex((d) => d.function?.name !== undefined)).toBeGreaterThanOrEqual(own.findIndex((d) => "id" in d));
        expect(own.filter((d) => "id" in d || d.function?.name !== undefined)).toHaveLength(2);
      }
    }
  });

  it("interleaved: the calls' deltas alternate, and some chunks carry two calls' deltas", () => {
    let both = 0;
    for (const seed of SEEDS) {
      const events = toolCallEvents(parallel, { style: "interleaved", seed });
      const perChunk = chunks(events).map((c) => (c.choices[0]?.delta.tool_calls ?? []).map((d: { index: number }) => d.index));
      both += perChunk.filter((indexes) => indexes.length > 1).length;
      expect(perChunk.flat().slice(0, 3)).toEqual([0, 1, 2]);
    }
    expect(both).toBeGreaterThan(0);
  });

  it("the same seed gives the same events; another seed cuts elsewhere", () => {
    const a = toolCallEvents(parallel, { style: "vllm", seed: 4 });
    expect(toolCallEvents(parallel, { style: "vllm", seed: 4 })).toEqual(a);
    expect(toolCallEvents(parallel, { style: "vllm", seed: 5 })).not.toEqual(a);
  });
});
