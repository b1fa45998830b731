// The tool loop of a Conversation (issue 18), against a local server that streams tool calls as DeepInfra and vLLM
// do: calls checked, run side by side, stored with their results, sent back, the model asked again.
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation, createClient, createMemoryStore, type AssistantMessage, type ConversationChange, type Message, type ToolCallPart, UserAbortError } from "../../src/index.ts";
import { tool, toolset } from "../../src/tools/index.ts";
import { streamEvents, textEvents, toolCallEvents } from "../helpers/tool-stream.ts";
import { chunk, gate, type Handler, MODEL, sse, startSSE, startUpstream, streamReply, type Upstream, usage } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 0 });

interface Call {
  id?: string;
  name: string;
  arguments: string;
}

/** A reply of tool calls, OpenAI/DeepInfra style: id and name first, the arguments in pieces of `piece` characters. */
function callReply(calls: Call[], { piece = 4, text = "", u = usage(30, 9) } = {}): Handler {
  return (_req, res) => {
    startSSE(res);
    res.write(sse(chunk({ role: "assistant", content: "" })));
    if (text) res.write(sse(chunk({ content: text })));
    calls.forEach((call, index) => {
      res.write(sse(chunk({ tool_calls: [{ index, id: call.id ?? `call_${index}`, type: "function", function: { name: call.name, arguments: "" } }] })));
      for (let i = 0; i < call.arguments.length; i += piece) res.write(sse(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(i, i + piece) } }] })));
    });
    res.write(sse(chunk({}, { finish_reason: "tool_calls", usage: u })));
    res.end(sse("[DONE]"));
  };
}

const weather = tool({
  description: "The weather in a city",
  parameters: v.object({ city: v.string(), unit: v.optional(v.picklist(["C", "F"])) }),
  execute: ({ city, unit = "C" }) => ({ city, temperature: unit === "C" ? 21 : 70, unit }),
});

/** A step that says "Let me look. ", begins a call, and ends there (`finishReason`: cut off by max_tokens, or cancelled). */
function cutInCall(finishReason: string): Handler {
  return (_req, res) => {
    startSSE(res);
    res.write(sse(chunk({ role: "assistant", content: "Let me look. " })));
    res.write(sse(chunk({ tool_calls: [{ index: 0, id: "cut", type: "function", function: { name: "weather", arguments: '{"city":"Par' } }] })));
    res.end(sse(chunk({}, { finish_reason: finishReason, usage: usage(20, 16) })) + sse("[DONE]"));
  };
}

const sent = (i: number) => upstream.requests[i]!.body as { messages: any[]; tools?: any[]; tool_choice?: string };

describe("a turn with tools", () => {
  it("runs a call with checked arguments, stores it with its result, sends both back, and streams the answer", async () => {
    upstream.handle(callReply([{ name: "weather", arguments: '{"city":"Paris"}' }], { u: usage(40, 8, 0.001) }), streamReply(["It is ", "21 °C."], usage(60, 5, 0.002)));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const reply = chat.send("Weather in Paris?");
    const text: string[] = [];
    for await (const delta of reply) text.push(delta);
    const final = await reply.done;

    expect(text.join("")).toBe("It is 21 °C.");
    expect(final).toMatchObject({ content: "It is 21 °C.", status: "complete", usage: usage(60, 5, 0.002) });
    const [, step, answer] = chat.messages as [Message, AssistantMessage, AssistantMessage];
    expect(step).toMatchObject({ role: "assistant", content: "", status: "complete", finishReason: "tool_calls", usage: usage(40, 8, 0.001) });
    expect(step.toolCalls).toEqual([{ id: "call_0", name: "weather", arguments: '{"city":"Paris"}', state: "done", result: { city: "Paris", temperature: 21, unit: "C" } }]);
    expect(answer.parentId).toBe(step.id);
    // Usage per step, and the sum spent.
    expect(chat.usage).toEqual({ promptTokens: 100, completionTokens: 13, cost: 0.003 });

    expect(sent(0).tools).toEqual([
      {
        type: "function",
        function: {
          name: "weather",
          description: "The weather in a city",
          parameters: { type: "object", properties: { city: { type: "string" }, unit: { enum: ["C", "F"], type: "string" } }, required: ["city"] },
        },
      },
    ]);
    expect(sent(1).messages.slice(1)).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "call_0", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_0", content: '{"city":"Paris","temperature":21,"unit":"C"}' },
    ]);
    expect(sent(1).tool_choice).toBeUndefined();
  });

  it("shows a call in onChange as it streams: the name first, then the arguments growing", async () => {
    upstream.handle(callReply([{ name: "weather", arguments: '{"city":"Reykjavík"}' }], { piece: 3 }), streamReply(["Cold."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const seen: string[] = [];
    chat.onChange((c: ConversationChange) => {
      if ((c.type === "update" || c.type === "append") && c.message.role === "assistant" && c.message.toolCalls) seen.push(`${c.message.toolCalls[0]!.state}:${c.message.toolCalls[0]!.arguments}`);
    });
    await chat.send("Weather?").done;
    const input = seen.filter((s) => s.startsWith("input:"));
    expect(input.length).toBeGreaterThan(5);
    expect(input.map((s) => s.length)).toEqual([...input.map((s) => s.length)].sort((a, b) => a - b));
    expect(seen.slice(input.length)).toEqual(['pending:{"city":"Reykjavík"}', 'approved:{"city":"Reykjavík"}', 'running:{"city":"Reykjavík"}', 'done:{"city":"Reykjavík"}']);
  });

  it("runs parallel calls at the same time, each result under its own id, in the order the model made them", async () => {
    const started: string[] = [];
    const both = gate();
    const slow = tool({
      parameters: v.object({ n: v.number() }),
      execute: async ({ n }) => {
        started.push(String(n));
        if (started.length === 2) both.open();
        await both.opened;
        return n * 10;
      },
    });
    upstream.handle(
      callReply([
        { id: "a", name: "slow", arguments: '{"n":1}' },
        { id: "b", name: "slow", arguments: '{"n":2}' },
      ]),
      streamReply(["Done."]),
    );
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ slow }) });
    await chat.send("Go").done;
    // Each waited for the other: they ran side by side.
    expect(started.sort()).toEqual(["1", "2"]);
    expect(sent(1).messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "a", content: "10" },
      { role: "tool", tool_call_id: "b", content: "20" },
    ]);
  });

  it("sends bad arguments, an unknown tool and a throw back to the model as the call's result, never a crash", async () => {
    const boom = tool({
      parameters: v.object({}),
      execute: () => {
        throw new Error("disk on fire");
      },
    });
    upstream.handle(
      callReply([
        { id: "j", name: "weather", arguments: '{"city": "Par' },
        { id: "s", name: "weather", arguments: '{"city": 7}' },
        { id: "u", name: "teleport", arguments: "{}" },
        { id: "t", name: "boom", arguments: "{}" },
      ]),
      streamReply(["Sorry."]),
    );
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather, boom }) });
    await expect(chat.send("Try").done).resolves.toMatchObject({ content: "Sorry.", status: "complete" });
    const results = Object.fromEntries((sent(1).messages as { role: string; tool_call_id?: string; content: string }[]).filter((m) => m.role === "tool").map((m) => [m.tool_call_id, m.content]));
    expect(results.j).toBe('Invalid arguments: not JSON: {"city": "Par');
    expect(results.s).toMatch(/^Invalid arguments: city: Invalid type: Expected string but received 7/);
    expect(results.u).toBe('Unknown tool "teleport". Tools: weather, boom.');
    expect(results.t).toBe("Error: disk on fire");
    expect((chat.messages[1] as AssistantMessage).toolCalls!.map((c) => c.state)).toEqual(["error", "error", "error", "error"]);
    // Arguments that are no JSON object go back as {} (llama.cpp and vLLM parse every call's arguments in the
    // history, and refuse one they cannot); the result quotes what was written. The store keeps them as written.
    const sentCalls = (sent(1).messages.find((m: { tool_calls?: unknown }) => m.tool_calls) as { tool_calls: { id: string; function: { arguments: string } }[] }).tool_calls;
    expect(sentCalls.map((c) => [c.id, c.function.arguments])).toEqual([
      ["j", "{}"],
      ["s", '{"city": 7}'],
      ["u", "{}"],
      ["t", "{}"],
    ]);
    expect((chat.messages[1] as AssistantMessage).toolCalls![0]!.arguments).toBe('{"city": "Par');
  });

  it("stops at maxSteps: the last request says tool_choice none, and calls made anyway are not run", async () => {
    let runs = 0;
    const count = tool({ parameters: v.object({}), execute: () => ++runs });
    upstream.handle(callReply([{ name: "count", arguments: "{}" }]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ count }, { maxSteps: 3 }) });
    const final = await chat.send("Count forever").done;
    expect(upstream.requests).toHaveLength(3);
    expect(upstream.requests.map((r) => (r.body as { tool_choice?: string }).tool_choice)).toEqual([undefined, undefined, "none"]);
    expect(runs).toBe(2);
    expect(final.toolCalls).toEqual([{ id: "call_0", name: "count", arguments: "{}", state: "error", result: "Not run: the limit of 3 steps was reached." }]);
    expect(chat.messages).toHaveLength(4);
  });

  it("abort() during a tool: the tool's signal aborts, the reply ends interrupted, and the history stays sendable", async () => {
    const entered = gate();
    let toolSignal: AbortSignal | undefined;
    const wait = tool({
      parameters: v.object({}),
      // Never resolves by itself: the loop must not wait for a tool that ignores its signal.
      execute: (_args, { signal }) => {
        toolSignal = signal;
        entered.open();
        return new Promise(() => {});
      },
    });
    upstream.handle(callReply([{ name: "wait", arguments: "{}" }]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ wait }) });
    const reply = chat.send("Wait");
    await entered.opened;
    reply.abort();
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    expect(reply.state).toBe("interrupted");
    expect(toolSignal?.aborted).toBe(true);
    expect(chat.messages[1]).toMatchObject({ status: "interrupted", toolCalls: [{ state: "error", result: "Stopped: the user aborted the reply." }] });
    expect(upstream.requests).toHaveLength(1);

    upstream.handle(streamReply(["OK."]));
    await chat.send("Never mind").done;
    expect(sent(0).messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
  });

  it("continue() after abort() during a tool: the stopped call is not run again; the model gets its result and answers", async () => {
    let runs = 0;
    const entered = gate();
    const wait = tool({
      parameters: v.object({}),
      execute: () => {
        runs++;
        entered.open();
        return new Promise(() => {});
      },
    });
    upstream.handle(callReply([{ name: "wait", arguments: "{}" }]), streamReply(["It was stopped."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ wait }) });
    const reply = chat.send("Wait");
    await entered.opened;
    reply.abort();
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    expect(chat.canContinue).toBe(true);

    const answer = await chat.continue().done;
    expect(answer).toMatchObject({ role: "assistant", status: "complete", content: "It was stopped." });
    expect(runs).toBe(1);
    expect(chat.messages.map((m) => [m.role, (m as AssistantMessage).status])).toEqual([
      ["user", undefined],
      ["assistant", "complete"],
      ["assistant", "complete"],
    ]);
    expect(chat.messages[1]).not.toHaveProperty("error");
    expect(sent(1).messages.slice(-1)).toEqual([{ role: "tool", tool_call_id: "call_0", content: "Stopped: the user aborted the reply." }]);
    expect(chat.canContinue).toBe(false);
  });

  it("abort() while the arguments stream: the half-written call is kept, not run, and never sent", async () => {
    const go = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ tool_calls: [{ index: 0, id: "h", type: "function", function: { name: "weather", arguments: '{"ci' } }] })));
      await go.opened;
      res.end();
    });
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const reply = chat.send("Weather");
    for (;;) {
      const m = chat.messages[1] as AssistantMessage | undefined;
      if (m?.toolCalls) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    reply.abort();
    go.open();
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    expect(chat.messages[1]).toMatchObject({ status: "interrupted", toolCalls: [{ id: "h", arguments: '{"ci', state: "input" }] });
    // No text and no whole call: nothing to carry on.
    expect(chat.canContinue).toBe(false);
    expect(() => chat.continue()).toThrow(/Nothing to continue/);
    upstream.handle(streamReply(["OK."]));
    await chat.send("Hello").done;
    expect(sent(0).messages.map((m: { role: string }) => m.role)).toEqual(["user", "user"]);
  });

  // Found against llama.cpp's server (test/peer/tools.peer.ts), which parses the arguments of every call in the
  // history: half a JSON object sent back made it refuse that send and every later one.
  it.each([
    ["max_tokens", "length"],
    ["a relay's cancel", "cancelled"],
  ])("a step cut off by %s inside a call: the call is kept as written, not run, and never sent", async (_, finishReason) => {
    const executed: unknown[] = [];
    const logged = tool({ ...weather, execute: (args) => void executed.push(args) });
    upstream.handle(cutInCall(finishReason));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather: logged }) });
    const final = await chat.send("Weather in Paris?").done;
    expect(final).toMatchObject({ status: "interrupted", finishReason, content: "Let me look. ", toolCalls: [{ id: "cut", name: "weather", arguments: '{"city":"Par', state: "input" }] });
    expect(executed).toEqual([]);
    expect(upstream.requests).toHaveLength(1);

    upstream.handle(streamReply(["OK."]));
    await chat.send("Never mind.").done;
    expect(sent(0).messages.slice(1)).toEqual([
      { role: "assistant", content: "Let me look. " },
      { role: "user", content: "Never mind." },
    ]);
  });

  it("continue() of a step cut off inside a call carries its text on and drops the half call: never run, never sent", async () => {
    const executed: unknown[] = [];
    const logged = tool({ ...weather, execute: (args) => void executed.push(args) });
    upstream.handle(cutInCall("length"), streamReply(["It is mild."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather: logged }) });
    await chat.send("Weather in Paris?").done;
    const done = await chat.continue().done;
    expect(done).toMatchObject({ status: "complete", content: "Let me look. It is mild." });
    expect(done.toolCalls).toBeUndefined();
    expect(executed).toEqual([]);
    expect(upstream.requests).toHaveLength(2);
    expect(sent(1).messages.some((m: { tool_calls?: unknown; role: string }) => m.tool_calls || m.role === "tool")).toBe(false);
  });

  it("a call written as text and cut off by max_tokens stays text: nothing parsed, nothing run", async () => {
    const cut = '<|python_tag|>{"name": "weather", "parameters": {"city": "Oslo"}}';
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ role: "assistant", content: cut })));
      res.write(sse(chunk({}, { finish_reason: "length" })));
      res.end(sse("[DONE]"));
    });
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const final = await chat.send("Oslo?").done;
    expect(final).toMatchObject({ status: "interrupted", content: cut });
    expect(final.toolCalls).toBeUndefined();
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("approval", () => {
  const sendMail = tool({
    parameters: v.object({ to: v.string() }),
    needsApproval: ({ to }) => !to.endsWith("@example.com"),
    execute: ({ to }) => `sent to ${to}`,
  });

  it("pauses the turn, stored; approve() in a conversation opened again runs it and asks the model", async () => {
    const store = createMemoryStore();
    upstream.handle(
      callReply([
        { id: "in", name: "sendMail", arguments: '{"to":"me@example.com"}' },
        { id: "out", name: "sendMail", arguments: '{"to":"boss@elsewhere.org"}' },
      ]),
    );
    const first = await Conversation.create(store, { client: client(), model: MODEL, tools: toolset({ sendMail }) });
    const paused = await first.send("Mail them").done;
    expect(paused.toolCalls!.map((c) => c.state)).toEqual(["approved", "approval"]);
    expect(upstream.requests).toHaveLength(1);
    first.close();

    // A reload: the waiting call is read back from the store.
    const again = await Conversation.open(store, first.id, { client: client(), tools: toolset({ sendMail }) });
    expect((again.messages.at(-1) as AssistantMessage).toolCalls![1]!.state).toBe("approval");
    upstream.handle(streamReply(["Both sent."]));
    const reply = again.approve("out");
    await expect(reply.done).resolves.toMatchObject({ content: "Both sent." });
    expect(sent(0).messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "in", content: "sent to me@example.com" },
      { role: "tool", tool_call_id: "out", content: "sent to boss@elsewhere.org" },
    ]);
    const { messages } = await store.loadMessages(first.id, { limit: 10 });
    expect((messages[1] as AssistantMessage).toolCalls!.map((c) => c.state)).toEqual(["done", "done"]);
  });

  it("a refusal is told to the model; approving a call that does not wait is an error", async () => {
    upstream.handle(callReply([{ id: "x", name: "sendMail", arguments: '{"to":"boss@elsewhere.org"}' }]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ sendMail }) });
    await chat.send("Mail").done;
    upstream.handle(streamReply(["Not sent."]));
    await chat.approve("x", false).done;
    expect(sent(0).messages.at(-1)).toEqual({ role: "tool", tool_call_id: "x", content: "The user refused to run this call." });
    await expect(chat.approve("x").done).rejects.toThrow('No tool call "x" waits for approval');
    expect(() => new Conversation({ client: client(), model: MODEL }).approve("x")).toThrow("no tools");
  });
});

describe("calls written as text (Llama 3 when the server does not parse them)", () => {
  it("reads <|python_tag|> calls, holds their text back from the reader, and runs them", async () => {
    upstream.handle(streamReply(["<|python", '_tag|>{"name": "weather", ', '"parameters": {"city": "Oslo"}}']), streamReply(["Mild."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const reply = chat.send("Oslo?");
    const text: string[] = [];
    for await (const d of reply) text.push(d);
    expect(text.join("")).toBe("Mild.");
    const step = chat.messages[1] as AssistantMessage;
    expect(step.content).toBe("");
    expect(step.toolCalls).toMatchObject([{ name: "weather", arguments: '{"city":"Oslo"}', state: "done", result: { city: "Oslo", temperature: 21, unit: "C" } }]);
    expect(step.toolCalls![0]!.id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it("several bare calls separated by ';'", async () => {
    upstream.handle(streamReply(['{"name": "weather", "parameters": {"city": "A"}}; {"name": "weather", "parameters": {"city": "B"}}']), streamReply(["Both."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    await chat.send("A and B?").done;
    expect((chat.messages[1] as AssistantMessage).toolCalls!.map((c) => c.arguments)).toEqual(['{"city":"A"}', '{"city":"B"}']);
  });

  it("text that only began like a call is shown as soon as it cannot be one, and JSON that is not a call stays text", async () => {
    upstream.handle(streamReply(['{"na', 'me_of_thing": 1}', " is JSON."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const reply = chat.send("JSON?");
    const text: string[] = [];
    for await (const d of reply) text.push(d);
    expect(text).toEqual(['{"name_of_thing": 1}', " is JSON."]);
    expect(await reply.done).toMatchObject({ content: '{"name_of_thing": 1} is JSON.', status: "complete" });
    expect((await reply.done).toolCalls).toBeUndefined();
  });

  it("without tools, the same text is just text", async () => {
    upstream.handle(streamReply(['{"name": "weather", "parameters": {}}']));
    const chat = new Conversation({ client: client(), model: MODEL });
    expect(await chat.send("Hm").done).toMatchObject({ content: '{"name": "weather", "parameters": {}}' });
  });
});

describe("fitting keeps a call with its result", () => {
  it("over many turns in a small window: each request drops whole turns, and every call it sends has its result right after it", async () => {
    const echo = tool({ parameters: v.object({ text: v.string() }), execute: ({ text }) => text.repeat(20) });
    // Every user message gets a call (whose result is long), then an answer.
    upstream.handle((req, res) => {
      const last = (req.body as { messages: { role: string; content: string }[] }).messages.at(-1)!;
      if (last.role === "tool") return streamReply(["Noted."])(req, res);
      return callReply([{ id: `c${upstream.requests.length}`, name: "echo", arguments: JSON.stringify({ text: last.content }) }])(req, res);
    });
    const chat = new Conversation({ client: client(), model: MODEL, contextWindow: 1200, maxOutputTokens: 100, tools: toolset({ echo }) });
    for (let turn = 0; turn < 12; turn++) await chat.send(`turn ${turn}: ${"words ".repeat(10)}`).done;
    expect(chat.lastContext!.droppedTurns).toBeGreaterThan(0);
    for (const request of upstream.requests) {
      const messages = (request.body as { messages: { role: string; tool_calls?: { id: string }[]; tool_call_id?: string }[] }).messages;
      // A request starts with a user message (whole turns dropped), and each call's results follow it, in order.
      expect(messages[0]!.role).toBe("user");
      messages.forEach((m, i) => {
        if (m.role === "tool") {
          let at = i - 1;
          while (messages[at]!.role === "tool") at--;
          expect(messages[at]!.tool_calls?.map((c) => c.id)).toContain(m.tool_call_id);
        }
        if (m.tool_calls) expect(messages.slice(i + 1, i + 1 + m.tool_calls.length).map((t) => t.tool_call_id)).toEqual(m.tool_calls.map((c) => c.id));
      });
    }
  });
});

describe("edges", () => {
  it("regenerate() asks again from the user message: the tools run again, and the old steps stay a version away", async () => {
    let runs = 0;
    const now = tool({ parameters: v.object({}), execute: () => `t${++runs}` });
    upstream.handle(callReply([{ name: "now", arguments: "{}" }]), streamReply(["First."]), callReply([{ name: "now", arguments: "{}" }]), streamReply(["Second."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ now }) });
    await chat.send("Time?").done;
    const firstStep = chat.messages[1]!.id;
    expect(await chat.regenerate().done).toMatchObject({ content: "Second." });
    expect(runs).toBe(2);
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant", "assistant"]);
    expect(chat.versions(chat.messages[1]!.id)).toEqual({ ids: [firstStep, chat.messages[1]!.id], index: 1 });
  });

  it("calls sent without an index (each delta a whole call) are read in order", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ role: "assistant", content: "", tool_calls: [{ id: "p", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } }, { id: "q", type: "function", function: { name: "weather", arguments: '{"city":"Bern"}' } }] })));
      res.write(sse(chunk({}, { finish_reason: "tool_calls", usage: usage(5, 5) })));
      res.end(sse("[DONE]"));
    }, streamReply(["Two cities."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    await chat.send("Rome and Bern?").done;
    expect((chat.messages[1] as AssistantMessage).toolCalls!.map((c) => [c.id, c.state, (c.result as { city: string }).city])).toEqual([
      ["p", "done", "Rome"],
      ["q", "done", "Bern"],
    ]);
  });

  it("a needsApproval that throws is the call's error, told to the model", async () => {
    const picky = tool({
      parameters: v.object({}),
      needsApproval: () => {
        throw new Error("cannot decide");
      },
      execute: () => "ran",
    });
    upstream.handle(callReply([{ id: "z", name: "picky", arguments: "{}" }]), streamReply(["OK."]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ picky }) });
    await chat.send("Go").done;
    expect(sent(1).messages.at(-1)).toEqual({ role: "tool", tool_call_id: "z", content: "Error: cannot decide" });
  });
});

describe("every server's way of streaming calls", () => {
  const styles = ["openai", "vllm", "late-id", "interleaved", "ollama", "text", "python-tag"] as const;
  const add = tool({ parameters: v.object({ a: v.number(), b: v.number() }), execute: ({ a, b }) => a + b });
  const specs = [
    { name: "add", arguments: '{"a": 2, "b": 3}' },
    { name: "add", arguments: '{"a": 10, "b": -4}' },
  ];

  for (const style of styles) {
    it(`${style}: both calls run with their arguments, and their results go back in order`, async () => {
      for (const seed of [1, 2, 3]) {
        upstream.handle(streamEvents(toolCallEvents(specs, { style, seed }), { split: 3, seed }), streamEvents(textEvents("5 and 6.")));
        const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ add }) });
        const reply = chat.send("Add them");
        let text = "";
        for await (const delta of reply) text += delta;
        expect(text, `seed ${seed}`).toBe("5 and 6.");
        const step = chat.messages[1] as AssistantMessage;
        expect(step.content, `seed ${seed}`).toBe("");
        expect(step.toolCalls!.map((c) => [JSON.parse(c.arguments), c.state, c.result]), `seed ${seed}`).toEqual([
          [{ a: 2, b: 3 }, "done", 5],
          [{ a: 10, b: -4 }, "done", 6],
        ]);
        const ids = step.toolCalls!.map((c) => c.id);
        expect(new Set(ids).size).toBe(2);
        expect(sent(1).messages.slice(-2)).toEqual(ids.map((id, i) => ({ role: "tool", tool_call_id: id, content: String([5, 6][i]) })));
      }
    });
  }
});

describe("results", () => {
  it("are kept as JSON holds them, and one longer than maxResultLength is cut with a note", async () => {
    const big = tool({ parameters: v.object({}), execute: () => ({ when: new Date(0), list: "x".repeat(50), skip: undefined }) });
    const huge = tool({ parameters: v.object({}), execute: () => "y".repeat(500) });
    upstream.handle(
      callReply([
        { id: "b", name: "big", arguments: "{}" },
        { id: "h", name: "huge", arguments: "{}" },
      ]),
      streamReply(["OK."]),
    );
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ big, huge }, { maxResultLength: 100 }) });
    await chat.send("Go").done;
    const [b, h] = (chat.messages[1] as AssistantMessage).toolCalls!;
    expect(b!.result).toEqual({ when: "1970-01-01T00:00:00.000Z", list: "x".repeat(50) });
    expect(h!.result).toBe(`${"y".repeat(100)}\n[Cut: the result had 500 characters; these are the first 100.]`);
  });
});

describe("any Standard Schema, and stopping between steps", () => {
  it("a tool whose schema is not valibot's: its own validate checks the arguments, its JSON Schema is sent", async () => {
    // A hand-written Standard Schema (as zod or arktype make them), with Standard JSON Schema.
    const positive = {
      "~standard": {
        version: 1 as const,
        vendor: "handmade",
        validate: (value: unknown) => {
          const n = (value as { n?: unknown } | null)?.n;
          return typeof n === "number" && n > 0 ? { value: { n } } : { issues: [{ message: "Expected a positive number", path: ["n"] }] };
        },
        jsonSchema: { input: () => ({ type: "object", properties: { n: { type: "number", exclusiveMinimum: 0 } }, required: ["n"] }) },
      },
    };
    const double = tool({ parameters: positive, execute: ({ n }: { n: number }) => n * 2 });
    upstream.handle(
      callReply([
        { id: "ok", name: "double", arguments: '{"n": 4}' },
        { id: "bad", name: "double", arguments: '{"n": -1}' },
      ]),
      streamReply(["8."]),
    );
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ double }) });
    await chat.send("Double").done;
    expect(sent(0).tools![0].function.parameters).toEqual({ type: "object", properties: { n: { type: "number", exclusiveMinimum: 0 } }, required: ["n"] });
    expect(sent(1).messages.slice(-2)).toEqual([
      { role: "tool", tool_call_id: "ok", content: "8" },
      { role: "tool", tool_call_id: "bad", content: "Invalid arguments: n: Expected a positive number" },
    ]);
  });

  it("abort() while the next step waits for its first word: no empty message, the turn stops at the step; continue() asks again", async () => {
    let runs = 0;
    const counted = tool({ ...weather, execute: (args) => (runs++, weather.execute(args, { signal: new AbortController().signal, callId: "" })) });
    const asked = gate();
    upstream.handle(callReply([{ name: "weather", arguments: '{"city":"Lima"}' }]), (_req, res) => {
      startSSE(res);
      asked.open(); // and nothing more: the step is stopped before it writes
    });
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather: counted }) });
    const reply = chat.send("Lima?");
    await asked.opened;
    reply.abort();
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    expect(chat.messages).toHaveLength(2);
    expect(chat.messages[1]).toMatchObject({ status: "interrupted", error: { name: "UserAbortError" }, toolCalls: [{ state: "done" }] });
    expect(chat.canContinue).toBe(true);

    upstream.handle(streamReply(["Mild."]));
    expect(await chat.continue().done).toMatchObject({ status: "complete", content: "Mild." });
    expect(runs).toBe(1);
    expect(sent(0).messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant", "assistant"]);
  });

  it("abort() once the calls have run and before the next step: no second request, the reply ends interrupted; continue() asks the next step", async () => {
    upstream.handle(callReply([{ name: "weather", arguments: '{"city":"Lima"}' }]), streamReply(["never"]));
    const chat = new Conversation({ client: client(), model: MODEL, tools: toolset({ weather }) });
    const reply = chat.send("Lima?");
    chat.onChange((c) => {
      if (c.type === "update" && c.message.role === "assistant" && c.message.toolCalls?.[0]?.state === "done") reply.abort();
    });
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    expect(reply.state).toBe("interrupted");
    expect(upstream.requests).toHaveLength(1);
    expect((chat.messages[1] as AssistantMessage).toolCalls![0]!.state).toBe("done");

    // continue() goes on as the turn would have: the next step, with the result; the call does not run again.
    expect(chat.canContinue).toBe(true);
    const answer = await chat.continue().done;
    expect(answer).toMatchObject({ status: "complete", content: "never" });
    expect(upstream.requests).toHaveLength(2);
    expect(sent(1).messages.slice(-2)).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "call_0", type: "function", function: { name: "weather", arguments: '{"city":"Lima"}' } }] },
      { role: "tool", tool_call_id: "call_0", content: JSON.stringify({ city: "Lima", temperature: 21, unit: "C" }) },
    ]);
    expect(chat.messages).toHaveLength(3);
  });
});

describe("a step left mid-run (orphaned: what a closed page's turn left)", () => {
  const step = (...states: ToolCallPart["state"][]): AssistantMessage => ({
    id: "s",
    role: "assistant",
    content: "",
    status: "complete",
    createdAt: 0,
    toolCalls: states.map((state, i) => ({ id: `c${i}`, name: "weather", arguments: "{}", state, ...(state === "done" && { result: 1 }) })),
  });
  const { orphaned } = toolset({ weather });

  it("stops running calls and interrupts the step; calls not started stay, to run on continue()", () => {
    expect(orphaned(step("done", "running", "approved"))).toMatchObject({
      status: "interrupted",
      toolCalls: [{ state: "done", result: 1 }, { state: "error", result: "Stopped: the page or process running it went away." }, { state: "approved" }],
    });
    expect(orphaned(step("pending"))?.status).toBe("interrupted");
  });

  it("leaves alone a step that waits for the user (an approved call beside it included), one whose calls all ended, and one not ended whole", () => {
    expect(orphaned(step("approval", "approved"))).toBeUndefined();
    expect(orphaned(step("done", "error", "refused"))).toBeUndefined();
    expect(orphaned({ ...step("running"), status: "interrupted" })).toBeUndefined();
    const { toolCalls: _, ...text } = step();
    expect(orphaned(text)).toBeUndefined();
  });
});

describe("the tools' definitions count against the window", () => {
  it("the budget for messages shrinks by what the definitions cost, in fit() and in the request sent", async () => {
    const many = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`tool_${i}`, tool({ description: `Tool number ${i}, which does something rather specific with its inputs`, parameters: v.object({ a: v.string(), b: v.number() }), execute: () => i })]),
    );
    const plain = new Conversation({ client: client(), model: MODEL, contextWindow: 8192 });
    const withTools = new Conversation({ client: client(), model: MODEL, contextWindow: 8192, tools: toolset(many) });
    const definitions = JSON.stringify(toolset(many).params(1).tools);
    const cost = Math.ceil((await import("../../src/index.ts")).estimateTokens(definitions));
    expect(cost).toBeGreaterThan(300);
    expect(plain.fit().budget - withTools.fit().budget).toBe(cost);
    upstream.handle(streamReply(["Hi."]));
    await withTools.send("Hello").done;
    expect(withTools.lastContext!.budget).toBe(plain.fit().budget - cost);
  });
});
