import { base64ToBytes } from "./base64.js";
import { UNCALIBRATED } from "./calibration.js";
import { array, boolean, type Check, invalid, number, object, oneOf, optional, refine, string, wrongType } from "./check.js";
import type { Message, MessagePart } from "./types.js";

import type { ConversationJSON, PartJSON } from "./serialize.js";

export type { ConversationJSON, MessageJSON, PartJSON } from "./serialize.js";

// No valibot here: see check.ts.
const whole = (min: number) => refine(number, (n) => Number.isInteger(n) && n >= min, `Expected an integer >= ${min}`);
const finite = refine(number, Number.isFinite, "Expected a finite number");
const factor = refine(number, (n) => Number.isFinite(n) && n >= 0, "Expected a finite number >= 0");
const count = whole(0);
const nonEmpty = refine(string, (s) => s !== "", "Expected a non-empty string");
const flag = optional(boolean);
const size = { width: optional(whole(1)), height: optional(whole(1)) };
const base = { id: nonEmpty, createdAt: finite, pinned: flag, parentId: optional(nonEmpty) };

// valibot's base64() test, and its url() test plus http(s) only.
const BASE64 = /^(?:[\da-z+/]{4})*(?:[\da-z+/]{2}==|[\da-z+/]{3}=)?$/iu;
function isHttpURL(s: string): boolean {
  try {
    return Boolean(new URL(s)) && /^https?:/i.test(s);
  } catch {
    return false;
  }
}

const partType = object({ type: oneOf("text", "image") });
const textPart = object({ type: oneOf("text"), text: string });
const bytesPart = object({
  type: oneOf("image"),
  data: refine(string, (s) => BASE64.test(s), "Expected base64"),
  mimeType: refine(string, (s) => s.startsWith("image/"), 'Expected a type starting with "image/"'),
  ...size,
});
const urlPart = object({ type: oneOf("image"), url: refine(string, isHttpURL, "Expected an http(s) image URL"), ...size });

/** An image is bytes or, failing that, a URL (bad `data` beside a good `url` is a URL image, as it always was). */
const part: Check<PartJSON> = (value, path) => {
  if (partType(value, path).type === "text") return textPart(value, path);
  try {
    return bytesPart(value, path);
  } catch (bytesError) {
    try {
      return urlPart(value, path);
    } catch (urlError) {
      // The problem with the form it was meant to have.
      throw "data" in (value as object) ? bytesError : urlError;
    }
  }
};
const parts = array(part);
const content: Check<string | PartJSON[]> = (value, path) =>
  typeof value === "string" ? value : Array.isArray(value) ? parts(value, path) : wrongType("(string | Array)", value, path);

const userMessage = object({ ...base, role: oneOf("user"), content });
const assistantMessage = object({
  ...base,
  role: oneOf("assistant"),
  content: string,
  status: oneOf("streaming", "complete", "interrupted", "error"),
  // Loose: a server's usage may carry more counts; they are kept.
  usage: optional(object({ prompt_tokens: count, completion_tokens: count, total_tokens: count, estimated_cost: optional(finite) }, true)),
  finishReason: optional(string),
  error: optional(object({ name: string, message: string })),
  contextRetry: flag,
  resume: optional(object({ url: string, lastEventId: string })),
  // Loose: `result` is any value, kept as it is.
  toolCalls: optional(
    array(
      object(
        { id: string, name: string, arguments: string, state: oneOf("input", "pending", "approval", "approved", "running", "done", "error", "refused") },
        true,
      ),
    ),
  ),
});
const role = object({ role: oneOf("user", "assistant") });
const message = (value: unknown, path: string) => (role(value, path).role === "user" ? userMessage : assistantMessage)(value, path);

const conversation = object({
  format: oneOf("edgechat.conversation"),
  // 1: a list, each message following the one before; 2: a tree (`parentId`, `activeLeaf`). Both import.
  version: oneOf(1, 2),
  id: nonEmpty,
  model: nonEmpty,
  system: optional(string),
  title: optional(string),
  createdAt: finite,
  calibration: optional(object({ text: factor, image: factor, samples: count })),
  usage: optional(object({ promptTokens: count, completionTokens: count, cost: factor })),
  messages: array(message),
  activeLeaf: optional(nonEmpty),
});

/** A validated document, its messages in memory form (image bytes, not base64), each with its parent, oldest first. */
export type ParsedConversation = Omit<ConversationJSON, "format" | "version" | "messages"> & { messages: Message[] };

/** JSON text → value; text that is not JSON is a ValidationError like any other bad document. */
export function parseJSONText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid("", `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Validate all of it first, then build: a bad document never yields a half-built conversation. */
export function parseConversationJSON(input: unknown): ParsedConversation {
  const data = conversation(input, "");
  const ids = new Set<string>();
  data.messages.forEach((m, i) => {
    if (ids.has(m.id)) throw invalid(`messages[${i}].id`, `duplicate id "${m.id}"`);
    // A parent comes before its children, so a document is a tree: no cycles, no message left hanging.
    if (m.parentId !== undefined && !ids.has(m.parentId)) throw invalid(`messages[${i}].parentId`, `"${m.parentId}" is not an earlier message`);
    ids.add(m.id);
  });
  if (data.activeLeaf !== undefined && !ids.has(data.activeLeaf)) throw invalid("activeLeaf", `"${data.activeLeaf}" is not a message`);
  const messages = data.messages.map((m, i): Message => {
    // Version 1 is a list: each message follows the one before it.
    const prior = data.messages[i - 1];
    if (data.version === 1 && prior) m = { ...m, parentId: prior.id };
    if (m.role === "assistant") {
      // A reply still "streaming" in a saved document was cut off by a closed page or a crash: nothing is writing it
      // any more, so nothing re-attaches to its generation either.
      const { resume: _, ...rest } = m;
      return m.status === "streaming" ? { ...rest, status: "interrupted" } : m;
    }
    const { content, ...rest } = m;
    return { ...rest, content: typeof content === "string" ? content : content.map(partFromJSON) };
  });
  const parsed: ParsedConversation = {
    id: data.id,
    model: data.model,
    createdAt: data.createdAt,
    calibration: data.calibration ?? UNCALIBRATED,
    messages,
  };
  if (data.system !== undefined) parsed.system = data.system;
  if (data.title !== undefined) parsed.title = data.title;
  if (data.usage !== undefined) parsed.usage = data.usage;
  if (data.activeLeaf !== undefined) parsed.activeLeaf = data.activeLeaf;
  return parsed;
}

function partFromJSON(part: PartJSON): MessagePart {
  if (part.type === "text" || !("data" in part)) return part;
  const { data, ...rest } = part;
  return { ...rest, data: base64ToBytes(data) };
}
