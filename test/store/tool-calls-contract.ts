// The tool-call part of the ConversationStore contract (issue 18): a reply's `toolCalls`, with results of every JSON
// type (a 100 KB one among them: over Deno KV's 64 KiB value), kept exactly through append, updates, a streaming
// reply whose calls grow, another handle, an interrupt, export and import. Run by every store through `storeContract`.
import type { ConversationStore } from "../../src/store/types.ts";
import type { AssistantMessage, Message, ToolCallPart } from "../../src/messages/types.ts";
import { assistantMessage, type ContractHost, equal, linked, userMessage } from "./contract.ts";

const usage = (p: number, c: number, cost: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c, estimated_cost: cost });

/** 100 000 characters of text a tool might return (a page it fetched), non-ASCII and escapes included. */
const LONG = Array.from({ length: 2000 }, (_, i) => `line ${i}: Zürich→東京 "quoted" \\ tab\t😀\n`).join("").slice(0, 100_000);

/** Every JSON type, nested; keys and strings that JSON, UTF-8 and structured clone each treat in their own way. */
const NESTED = {
  city: "Zürich",
  "ключ с пробелом": ["東京", 1, -2.5, 1e21, 0, true, false, null, {}, []],
  deep: { a: { b: { c: { d: [[["bottom"]]] } } } },
  escapes: 'quote " backslash \\ newline \n nul \u0000 separators \u2028\u2029',
  emoji: "👩‍👩‍👧 and a half: " + "😀".slice(0, 1),
  big: Number.MAX_SAFE_INTEGER,
  small: 5e-324,
  // What JSON.parse makes of an API's answer: an own "__proto__" key, to be kept as data, never as a prototype.
  parsed: JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c"}') as unknown,
};

/** A reply that called tools: each call in a different state, its result of a different type. */
function calls(): ToolCallPart[] {
  return [
    { id: "call_0_ü😀", name: "get_weather", arguments: '{"city":"Zürich","emoji":"😀","q":"\\ud83d\\ude00 \\"x\\"\\n"}', state: "done", result: NESTED },
    { id: "call_1", name: "fetch_page", arguments: '{"url":"https://example.com/東京"}', state: "done", result: LONG },
    { id: "call_2", name: "count", arguments: "{}", state: "done", result: 42 },
    { id: "call_3", name: "flag", arguments: "{}", state: "done", result: false },
    { id: "call_4", name: "nothing", arguments: "{}", state: "done", result: null },
    { id: "call_5", name: "list", arguments: '{"n":3}', state: "done", result: [1, "two", { three: [3] }, null, true] },
    { id: "call_6", name: "get_time", arguments: '{"tz": "Europe/Zürich"', state: "error", result: "Invalid arguments: Unexpected end of JSON input" },
    { id: "call_7", name: "delete_files", arguments: '{"path":"/"}', state: "refused", result: "The user refused this call." },
    { id: "call_8", name: "send_mail", arguments: '{"to":"ana@example.com","body":"¡Hola!"}', state: "approval" },
    { id: "call_9", name: "send_mail", arguments: '{"to":"bo@example.com","body":"Hej"}', state: "pending" },
    { id: "call_10", name: "send_mail", arguments: '{"to":"cy@example.com","body":"Hi"}', state: "approved" },
    { id: "call_11", name: "send_mail", arguments: '{"to":"di@example.com","body":"Yo"}', state: "running" },
  ];
}

const last = async (s: ConversationStore, id: string) => (await s.loadMessages(id, { limit: 1 })).messages[0];

export function toolCallsContract(host: ContractHost): void {
  const { define } = host;

  define("tool calls: every state and JSON type, a 100 KB result, kept through updates and read from another handle", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m" });
    const [question, reply] = linked<Message>(
      userMessage("Weather in Zürich, and mail Ana?"),
      assistantMessage("Let me check.", { finishReason: "tool_calls", usage: usage(40, 12, 0.5), toolCalls: calls() }),
    ) as [Message, AssistantMessage];
    await s.appendMessage(id, question);
    await s.appendMessage(id, reply);
    equal(await last(s, id), reply, "appended");

    // The user approves the mail: approval → running → done, with a result.
    const step = (state: ToolCallPart["state"], result?: unknown): AssistantMessage => ({
      ...reply,
      toolCalls: reply.toolCalls!.map((c) => (c.id === "call_8" ? { ...c, state, ...(result !== undefined && { result }) } : c)),
    });
    await s.updateMessage(id, step("running"));
    equal(await last(s, id), step("running"), "running");
    const done = step("done", { sent: true, id: "<msg-1@example.com>", at: 1_764_000_000_000 });
    await s.updateMessage(id, done);
    equal(await last(s, id), done, "done, with its result");
    equal((await s.get(id))!.usage, { promptTokens: 40, completionTokens: 12, cost: 0.5 }, "what it spent, counted once");

    const other = host.sibling ? await host.sibling(s) : s;
    equal((await other.loadMessages(id)).messages, [question, done], "read from another handle");

    // The big result goes and comes back: what held its bytes is freed (Deno KV: the blob of a long message).
    const small = { ...done, toolCalls: done.toolCalls!.map((c) => (c.id === "call_1" ? { ...c, result: "short" } : c)) };
    await s.updateMessage(id, small);
    equal(await last(other, id), small, "the long result replaced");
    if (host.footprint) equal(await host.footprint(s), { images: 0, chunks: 0 }, "nothing left of the long result");
    await s.updateMessage(id, done);
    equal(await last(other, id), done, "and back");
    await s.delete(id);
    if (host.footprint) equal(await host.footprint(s), { images: 0, chunks: 0 }, "nothing left after the delete");
  });

  define("tool calls: a streaming reply whose calls grow, then end; one cut off mid-call is interrupted with its calls", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m" });
    const question = userMessage("What time is it in Tokyo and in Zürich?");
    await s.appendMessage(id, question);
    const reply = assistantMessage("", { status: "streaming", parentId: question.id });
    await s.appendMessage(id, reply);
    const steps: AssistantMessage[] = [
      { ...reply, content: "Checking" },
      { ...reply, content: "Checking both.", toolCalls: [{ id: "call_a", name: "get_time", arguments: '{"tz":"Asia/To', state: "input" }] },
      {
        ...reply,
        content: "Checking both.",
        toolCalls: [
          { id: "call_a", name: "get_time", arguments: '{"tz":"Asia/Tokyo"}', state: "input" },
          { id: "call_b", name: "get_time", arguments: '{"tz":"Europe/Z\\u00fc', state: "input" },
        ],
      },
    ];
    for (const [i, message] of steps.entries()) {
      await s.updateMessage(id, message);
      equal(await last(s, id), message, `streaming step ${i}`);
    }
    const complete: AssistantMessage = {
      ...reply,
      content: "Checking both.",
      status: "complete",
      finishReason: "tool_calls",
      usage: usage(30, 20, 0.25),
      toolCalls: [
        { id: "call_a", name: "get_time", arguments: '{"tz":"Asia/Tokyo"}', state: "done", result: { time: "21:04", tz: "Asia/Tokyo" } },
        { id: "call_b", name: "get_time", arguments: '{"tz":"Europe/Z\\u00fcrich"}', state: "done", result: "13:04" },
      ],
    };
    await s.updateMessage(id, complete);
    equal((await s.loadMessages(id)).messages, [question, complete], "complete");

    // A page closed while a call's arguments streamed: the reply nobody writes keeps its calls as they were.
    const next = assistantMessage("", {
      status: "streaming",
      parentId: complete.id,
      toolCalls: [{ id: "call_c", name: "get_time", arguments: '{"tz":"Amer', state: "input" }],
    });
    await s.appendMessage(id, next);
    if (s.interruptStale) equal(await s.interruptStale(id, next.id), { ...next, status: "interrupted" }, "interrupted, its call kept");
  });

  define("tool calls: export and import keep them exactly", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m", title: "Tools" });
    const sent = linked<Message>(
      userMessage("Weather?"),
      assistantMessage("", { finishReason: "tool_calls", usage: usage(10, 5, 0.125), toolCalls: calls() }),
      assistantMessage("Sunny in Zürich.", { usage: usage(20, 5, 0.25) }),
    );
    for (const m of sent) await s.appendMessage(id, m);
    const doc = JSON.parse(JSON.stringify(await s.export(id)));
    equal(doc.messages[1].toolCalls, calls(), "exported");
    await s.delete(id);
    await s.import(doc);
    equal((await s.loadMessages(id)).messages, sent, "imported");
    equal(JSON.parse(JSON.stringify(await s.export(id))), doc, "exported again, the same document");
  });
}
