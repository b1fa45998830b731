// Tool calling, simulated. A request that declares `tools` gets calls when its last user message asks for what a
// tool does (the time; an image's size; copying to the clipboard), names a tool, or `tool_choice` demands one; never
// with `tool_choice: "none"`. A request that ends with tool results gets an answer written from them. Which tool
// does what is read from its name and description, as a model would; its arguments are made from its JSON Schema.
import type { RequestFacts } from "./facts.js";
import { factHints, wordsOf } from "./hints.js";
import type { SimMessage, SimRequest, SimTool } from "./request.js";
import { normalName, valueFor } from "./schema-value.js";

export interface PlannedCall {
  id: string;
  name: string;
  /** JSON text, as a model writes it. */
  arguments: string;
}

interface Intent {
  /** The user asks for it. */
  asks: RegExp;
  /** A tool that does it, by its name and description. */
  does: (about: string) => boolean;
  /** Arguments the message gives, by property name. */
  hints?: (request: SimRequest) => Record<string, unknown>;
}

const INTENTS: Intent[] = [
  {
    asks: /\b(?:what(?:'s| is)? the (?:time|date)|what time|time is it|(?:current|local) (?:time|date)|the time (?:now|here)|clock|what day is it|today'?s date)\b/i,
    does: (about) => /\b(?:time|clock|date)\b|_time\b|time_/i.test(about) && !/\bimage\b/i.test(about),
  },
  {
    asks: /\b(?:how (?:big|large|wide|tall|heavy)|(?:image|picture|photo|file) size|size of (?:the |this |that |my )?(?:image|picture|photo|file)|dimensions?|resolution|width and height|how many (?:pixels|bytes))\b/i,
    does: (about) => /image|picture|photo/i.test(about) && /size|dimension|width|height|big/i.test(about),
  },
  {
    asks: /\bclipboard\b|^\s*copy\b/i,
    does: (about) => /clipboard|\bcopy/i.test(about),
    hints: (request) => {
      const text = textToCopy(request);
      return text === undefined ? {} : { text, content: text, value: text, data: text };
    },
  },
];

/** The calls to make for this request, in the order the tools were declared; none when it asks for nothing a tool does. */
export function planCalls(request: SimRequest, facts: RequestFacts): PlannedCall[] {
  const { tools, toolChoice } = request;
  const last = request.messages.at(-1);
  if (tools.length === 0 || toolChoice === "none" || last?.role !== "user") return [];
  let chosen: { tool: SimTool; hints: Record<string, unknown> }[];
  if (typeof toolChoice === "object") {
    const tool = tools.find((t) => t.name === toolChoice.name);
    chosen = tool ? [{ tool, hints: hintsFor(tool, request) }] : [];
  } else {
    const text = last.text;
    chosen = tools.filter((tool) => named(tool, text) || INTENTS.some((i) => i.asks.test(text) && i.does(about(tool)))).map((tool) => ({ tool, hints: hintsFor(tool, request) }));
    if (chosen.length === 0 && toolChoice === "required") chosen = [{ tool: tools[0]!, hints: hintsFor(tools[0]!, request) }];
  }
  const base = factHints(facts);
  return chosen.map(({ tool, hints }) => {
    const merged = new Map(base);
    for (const [k, v] of Object.entries(hints)) merged.set(normalName(k), [v, ...(merged.get(normalName(k)) ?? [])]);
    return { id: callId(), name: tool.name, arguments: JSON.stringify(valueFor(tool.parameters ?? { type: "object", properties: {} }, merged, wordsOf(last.text))) };
  });
}

/** The tool results the request ends with, each with the call it answers (the assistant message before them). */
export function trailingResults(request: SimRequest): { name: string; arguments: string; content: string }[] {
  const results: SimMessage[] = [];
  let at = request.messages.length - 1;
  for (; at >= 0 && request.messages[at]!.role === "tool"; at--) results.unshift(request.messages[at]!);
  const calls = request.messages[at]?.role === "assistant" ? (request.messages[at]!.toolCalls ?? []) : [];
  return results.map((r) => {
    const call = calls.find((c) => c.id === r.toolCallId);
    return { name: call?.name ?? "a tool", arguments: call?.arguments ?? "{}", content: r.text };
  });
}

/** The results as values a JSON answer can use (the objects among them). */
export function resultObjects(request: SimRequest): Record<string, unknown>[] {
  return trailingResults(request).flatMap(({ content }) => {
    const value = parse(content);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? [value as Record<string, unknown>] : [];
  });
}

/** The answer to a request that ends with tool results: one sentence per result, from what the tool returned. */
export function answerFromResults(request: SimRequest): string {
  const sentences = trailingResults(request).map(({ name, content }) => sentence(name, content));
  const body = sentences.length === 1 ? sentences[0]! : sentences.map((s) => `- ${s}`).join("\n");
  return `${body}\n\n*Simulated reply: written from the tool ${sentences.length === 1 ? "result" : "results"} above; no language model ran.*`;
}

const REFUSED = /\b(?:refused|declined|denied)\b/i;
const FAILED = /^(?:error\b|invalid arguments|unknown tool|not run|stopped)/i;

function sentence(name: string, content: string): string {
  const tool = `\`${name}\``;
  if (REFUSED.test(content) && content.length < 200) return `You declined to let me run ${tool}, so I did not run it.`;
  if (FAILED.test(content.trim())) return `${tool} could not answer: ${content.trim().replace(/^error:\s*/i, "")}`;
  const value = parse(content);
  if (typeof value !== "object" || value === null) return `${tool} says: ${typeof value === "string" ? value : content}`;
  const r = value as Record<string, unknown>;
  if (typeof r.time === "string") {
    const on = typeof r.date === "string" ? ` on ${r.date}` : "";
    const zone = typeof r.timeZone === "string" ? ` in ${r.timeZone}` : "";
    const offset = typeof r.utcOffset === "string" ? ` (UTC${r.utcOffset})` : "";
    return `It is **${r.time}**${on}${zone}${offset}.`;
  }
  if (typeof r.width === "number" && typeof r.height === "number") {
    const about = [typeof r.type === "string" ? r.type : undefined, typeof r.bytes === "number" ? `${r.bytes.toLocaleString("en-US")} bytes` : undefined].filter(Boolean);
    return `The image is **${r.width} × ${r.height} px**${about.length > 0 ? ` (${about.join(", ")})` : ""}.`;
  }
  if (typeof r.copied === "number") return `Copied ${r.copied.toLocaleString("en-US")} ${r.copied === 1 ? "character" : "characters"} to your clipboard.`;
  const json = JSON.stringify(value);
  return `${tool} returned \`${json.length > 300 ? `${json.slice(0, 300)}…` : json}\`.`;
}

/** What to copy: quoted text, or what follows "copy"; "that" or "your answer" means the previous reply. */
function textToCopy(request: SimRequest): string | undefined {
  const text = request.messages.at(-1)?.text ?? "";
  const quoted = /["“«]([^"”»]+)["”»]/.exec(text)?.[1] ?? /(?:^|\s)'([^']+)'(?=\s|[.,!?]|$)/.exec(text)?.[1];
  const said = quoted ?? /\bcopy\s+(.+?)(?:\s+(?:to|into|onto|in)\s+(?:my |the )?clipboard)?\s*[.!?]?\s*$/is.exec(text)?.[1];
  const previous = [...request.messages].reverse().find((m) => m.role === "assistant" && m.text.trim() !== "" && !m.toolCalls);
  if ((said === undefined || /^(?:that|this|it|the (?:last |previous )?(?:reply|answer|message)|your (?:last )?(?:reply|answer))$/i.test(said.trim())) && previous) {
    return previous.text.slice(0, 2000);
  }
  return said?.trim() || undefined;
}

function hintsFor(tool: SimTool, request: SimRequest): Record<string, unknown> {
  const intent = INTENTS.find((i) => i.does(about(tool)));
  return intent?.hints?.(request) ?? {};
}

const about = (tool: SimTool) => `${tool.name} ${tool.name.replace(/[_-]+/g, " ")} ${tool.description}`;

/** The message names the tool (`local_time`, or "weather"). */
function named(tool: SimTool, text: string): boolean {
  const escaped = tool.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?:^|[^\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "iu").test(text);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** OpenAI's form: `call_` and 24 characters. */
function callId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `call_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
