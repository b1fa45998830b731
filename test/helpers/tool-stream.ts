// Streamed replies that call tools, as real OpenAI-compatible servers write them, for tests of the tool loop against
// the local server of ./upstream.ts. `toolCallEvents` and `textEvents` give the SSE events (`data: {...}\n\n` …
// `data: [DONE]\n\n`); `streamEvents` is a Handler that writes them, optionally slowly and cut at arbitrary bytes.
//
//   upstream.handle(streamEvents(toolCallEvents([{ name: "get_time", arguments: '{"tz":"Asia/Tokyo"}' }], { style: "vllm", seed: 3 })),
//                   streamEvents(textEvents("It is 21:04 in Tokyo.")));
//
// Styles, and the servers they imitate (argument fragments are cut at seeded random places in every style):
//   openai       OpenAI, and DeepInfra (OpenAI-compatible): a call's first delta is {index, id, type: "function",
//                function: {name, arguments: ""}}, then {index, function: {arguments}} fragments; parallel calls one
//                after the other. The last chunk has finish_reason "tool_calls" and, as DeepInfra sends it, `usage`
//                with `estimated_cost`.
//   vllm         vLLM's OpenAI-compatible server (vllm/entrypoints/openai/serving_chat.py): ids "chatcmpl-tool-…";
//                the first delta has {index, id, type, function: {name}} (a tool parser: no arguments key) or, as the
//                named-tool_choice path sends it, the first arguments with it; fragments cut anywhere (inside strings
//                and \uXXXX escapes); the finish chunk carries the last fragment (vLLM streams what its partial-JSON
//                parser held back there); usage in a chunk of its own with `choices: []` (stream_options.include_usage).
//   late-id      no server we know of, but the spec allows it (every delta field is optional): the id and the name
//                come in later deltas than the call's first argument fragment, each in its own.
//   interleaved  parallel calls whose deltas alternate by index (call 0, call 1, call 0, …), some deltas carrying
//                fragments of both calls; otherwise as openai.
//   ollama       Ollama's OpenAI-compatible API (ollama/ollama#15457, 2026): each call whole in one delta, and every
//                one of parallel calls at index 0 (told apart by their ids only); usage alone, as vllm.
//   text         Llama 3 tool calls a server does not parse (llama.cpp without --jinja, vLLM without
//                --enable-auto-tool-choice): the model writes {"name": …, "parameters": …} in `content`, several
//                separated by "; ", and the reply ends with finish_reason "stop".
//   python-tag   the same after Llama 3.1's <|python_tag|> token (in one piece: it is one token), as a server that keeps
//                special tokens in the text shows it (vLLM with skip_special_tokens: false, llama.cpp with --special).
// llama.cpp's server (with --jinja) parses calls as openai does, but sends `type` only with the id and `arguments`
// in every delta, even the first ("" then): `openai` covers what a client must handle there.
import type { ServerResponse } from "node:http";
import type { Usage } from "../../src/client/types.ts";
import { randomChunks, rng } from "./chunking.ts";
import type { Handler } from "./upstream.ts";

export interface ToolCallSpec {
  /** Made up (per style, like the server's own) when absent; the text styles have none. */
  id?: string;
  name: string;
  /** As the model writes them: JSON text, or anything else (a malformed call is a test too). */
  arguments: string;
}

export type ToolStyle = "openai" | "vllm" | "late-id" | "interleaved" | "ollama" | "text" | "python-tag";

export interface ReplyOptions {
  /** Where fragments are cut, ids made up, styles' choices made: the same seed, the same events. Default 1. */
  seed?: number;
  model?: string;
  /** What the reply cost; `null`: no usage at all. Default: made up from the reply's size. */
  usage?: Usage | null;
}

export interface ToolCallOptions extends ReplyOptions {
  style: ToolStyle;
  /** Text the model writes before its calls, in the same reply. */
  content?: string;
}

export const DEFAULT_MODEL = "meta-llama/Llama-3.3-70B-Instruct";

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const DONE = "data: [DONE]\n\n";

type Delta = Record<string, unknown>;

/** The chunks of one reply, each made by `chunk(delta, finish?)`. */
function envelope(options: ReplyOptions, vllm: boolean) {
  const random = rng(options.seed ?? 1);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  const id = vllm ? `chatcmpl-${hex(32)}` : `chatcmpl-${hex(24)}`;
  const model = options.model ?? DEFAULT_MODEL;
  const chunk = (delta: Delta, finish: string | null = null, usage?: Usage): string => {
    const out: Record<string, unknown> = { id, object: "chat.completion.chunk", created: 1_764_028_800, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (usage) out.usage = usage;
    return event(out);
  };
  const usageOnly = (usage: Usage) => event({ id, object: "chat.completion.chunk", created: 1_764_028_800, model, choices: [], usage });
  return { random, hex, chunk, usageOnly };
}

/** `text` in pieces of 1 to `most` code points, never inside a surrogate pair (servers send whole characters). */
export function fragments(text: string, random: () => number, most = 6): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; ) {
    const size = 1 + Math.floor(random() * most);
    out.push(points.slice(i, i + size).join(""));
    i += size;
  }
  return out;
}

const madeUsage = (pieces: number, cost: boolean): Usage => {
  const usage: Usage = { prompt_tokens: 180, completion_tokens: pieces, total_tokens: 180 + pieces };
  if (cost) usage.estimated_cost = (180 * 0.23 + pieces * 0.4) / 1e6;
  return usage;
};

/** What a model that writes its calls as text puts in `content` (style "text" or "python-tag"). */
export function toolCallText(calls: readonly ToolCallSpec[], style: "text" | "python-tag", content = ""): string {
  const text = calls.map((c) => `{"name": ${JSON.stringify(c.name)}, "parameters": ${c.arguments}}`).join("; ");
  return content + (style === "python-tag" ? `<|python_tag|>${text}` : text);
}

/** A whole streamed reply that calls `calls`, in `style`, ending with `data: [DONE]`. */
export function toolCallEvents(calls: readonly ToolCallSpec[], options: ToolCallOptions): string[] {
  const { style } = options;
  const vllm = style === "vllm";
  const usageAlone = vllm || style === "ollama";
  const { random, hex, chunk, usageOnly } = envelope(options, vllm);
  const events: string[] = [];
  let pieces = 0;
  const emit = (delta: Delta) => {
    pieces++;
    events.push(chunk(delta));
  };
  const content = options.content ?? "";

  if (style === "text" || style === "python-tag") {
    events.push(chunk({ role: "assistant", content: "" }));
    // <|python_tag|> is one token: one piece.
    const tag = style === "python-tag" ? ["<|python_tag|>"] : [];
    for (const piece of [...fragments(content, random), ...tag, ...fragments(toolCallText(calls, "text"), random)]) emit({ content: piece });
    const usage = options.usage === undefined ? madeUsage(pieces, true) : options.usage;
    events.push(chunk({}, "stop", usage ?? undefined), DONE);
    return events;
  }

  // OpenAI sends `content: null` with the role when the reply opens with a call; vLLM and DeepInfra send "".
  events.push(chunk({ role: "assistant", content: content || style !== "openai" ? "" : null }));
  for (const piece of content ? fragments(content, random) : []) emit({ content: piece });

  const ids = calls.map((c) => c.id ?? (vllm ? `chatcmpl-tool-${hex(32)}` : `call_${hex(style === "ollama" ? 8 : 24)}`));
  const parts = calls.map((c) => fragments(c.arguments, random, vllm ? 9 : 5));
  const head = (i: number, args?: string): Delta => ({ index: i, id: ids[i], type: "function", function: args === undefined ? { name: calls[i]!.name } : { name: calls[i]!.name, arguments: args } });
  const args = (i: number, text: string): Delta => ({ index: i, function: { arguments: text } });
  /** The `tool_calls` of each chunk, in order. */
  const deltas: Delta[][] = [];

  if (style === "ollama") {
    for (const [i, call] of calls.entries()) deltas.push([{ ...head(i, call.arguments), index: 0 }]);
  } else if (style === "interleaved") {
    const queues = calls.map((_, i) => [head(i, ""), ...parts[i]!.map((p) => args(i, p))]);
    while (queues.some((q) => q.length > 0)) {
      const ready = queues.filter((q) => q.length > 0);
      // Mostly one call's delta at a time, in turn; now and then one delta for each call, in one chunk.
      if (ready.length > 1 && random() < 0.25) deltas.push(ready.map((q) => q.shift()!));
      else for (const q of ready) deltas.push([q.shift()!]);
    }
  } else {
    for (const [i, call] of calls.entries()) {
      const rest = parts[i]!;
      if (style === "late-id" && rest.length > 0) {
        // Arguments first; the id after one fragment or more, the name with it or later, each a delta of its own.
        const own: Delta[] = rest.map((p) => args(i, p));
        const idAt = 1 + Math.floor(random() * rest.length);
        const nameAt = idAt + Math.floor(random() * (rest.length - idAt + 1));
        own.splice(nameAt, 0, { index: i, function: { name: call.name } });
        own.splice(idAt, 0, { index: i, id: ids[i], type: "function" });
        deltas.push(...own.map((d) => [d]));
      } else if (vllm && rest.length > 0 && random() < 0.5) {
        deltas.push([head(i, rest[0])], ...rest.slice(1).map((p) => [args(i, p)]));
      } else {
        deltas.push([vllm ? head(i) : head(i, "")], ...rest.map((p) => [args(i, p)]));
      }
    }
  }
  // vLLM: the last fragment comes with finish_reason (what its partial-JSON parser held back).
  const held = vllm && deltas.length > 1 && !("id" in deltas.at(-1)![0]!) ? deltas.pop() : undefined;
  for (const tool_calls of deltas) emit({ tool_calls });

  if (usageAlone) {
    events.push(chunk(held ? { tool_calls: held } : {}, "tool_calls"));
    const usage = options.usage === undefined ? madeUsage(pieces, false) : options.usage;
    if (usage) events.push(usageOnly(usage));
  } else {
    const usage = options.usage === undefined ? madeUsage(pieces, true) : options.usage;
    events.push(chunk({}, "tool_calls", usage ?? undefined));
  }
  events.push(DONE);
  return events;
}

/** A plain streamed text reply (the step after the tools ran), DeepInfra's way: usage on the finish chunk. */
export function textEvents(text: string, options: ReplyOptions = {}): string[] {
  const { random, chunk } = envelope(options, false);
  const pieces = fragments(text, random);
  const usage = options.usage === undefined ? madeUsage(pieces.length, true) : options.usage;
  return [chunk({ role: "assistant", content: "" }), ...pieces.map((p) => chunk({ content: p })), chunk({}, "stop", usage ?? undefined), DONE];
}

export interface WriteOptions {
  /** Wait this long before each write. */
  delayMs?: number;
  /** Write the bytes in pieces of 1 to `split` bytes, cut anywhere (inside a character, between an event's two \n, …). */
  split?: number;
  /** For the cuts. Default 1. */
  seed?: number;
}

/** A Handler that answers with `events` as an SSE stream. */
export function streamEvents(events: readonly string[], { delayMs = 0, split, seed = 1 }: WriteOptions = {}): Handler {
  return async (_req, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    const writes = split === undefined ? events.map((e) => Buffer.from(e)) : randomChunks(Buffer.from(events.join("")), rng(seed), split);
    for (const piece of writes) {
      if (res.destroyed) return;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      res.write(piece);
    }
    res.end();
  };
}
