import * as v from "valibot";
import { formatPath, ValidationError } from "../errors/validation.js";
import { base64ToBytes } from "./base64.js";
import { UNCALIBRATED } from "./calibration.js";
import type { Message, MessagePart, ToolCallPart } from "./types.js";

import type { ConversationJSON } from "./serialize.js";

export type { ConversationJSON, MessageJSON, PartJSON } from "./serialize.js";

// Every distinct valibot function is code in every app that bundles Conversation (fromJSON is a static method,
// so it is never tree-shaken): the schemas use few of them, mostly the client's own, and refine values with
// `check` (one function) rather than minLength, integer, minValue, finite, startsWith, url, regex, base64...
const number = (ok: (n: number) => boolean, message: string) => v.pipe(v.number(), v.check(ok, message));
const string = (ok: (s: string) => boolean, message: string) => v.pipe(v.string(), v.check(ok, message));
const whole = (min: number) => number((n) => Number.isInteger(n) && n >= min, `Expected an integer >= ${min}`);

const finite = number(Number.isFinite, "Expected a finite number");
const factor = number((n) => Number.isFinite(n) && n >= 0, "Expected a finite number >= 0");
const count = whole(0);
const nonEmpty = string((s) => s !== "", "Expected a non-empty string");
const flag = v.exactOptional(v.boolean());
const size = { width: v.exactOptional(whole(1)), height: v.exactOptional(whole(1)) };
const base = { id: nonEmpty, createdAt: finite, pinned: flag, parentId: v.exactOptional(nonEmpty) };

// valibot's base64() test, and its url() test plus http(s) only.
const BASE64 = /^(?:[\da-z+/]{4})*(?:[\da-z+/]{2}==|[\da-z+/]{3}=)?$/iu;
function isHttpURL(s: string): boolean {
  try {
    return Boolean(new URL(s)) && /^https?:/i.test(s);
  } catch {
    return false;
  }
}

const partSchema = v.union([
  v.object({ type: v.literal("text"), text: v.string() }),
  v.object({
    type: v.literal("image"),
    data: string((s) => BASE64.test(s), "Expected base64"),
    mimeType: string((s) => s.startsWith("image/"), 'Expected a type starting with "image/"'),
    ...size,
  }),
  v.object({ type: v.literal("image"), url: string(isHttpURL, "Expected an http(s) image URL"), ...size }),
]);

const usageSchema = v.looseObject({
  prompt_tokens: count,
  completion_tokens: count,
  total_tokens: count,
  estimated_cost: v.exactOptional(finite),
});

const messageSchema = v.variant("role", [
  v.object({ ...base, role: v.literal("user"), content: v.union([v.string(), v.array(partSchema)]) }),
  v.object({
    ...base,
    role: v.literal("assistant"),
    content: v.string(),
    status: v.union([v.literal("streaming"), v.literal("complete"), v.literal("interrupted"), v.literal("error")]),
    usage: v.exactOptional(usageSchema),
    finishReason: v.exactOptional(v.string()),
    error: v.exactOptional(v.object({ name: v.string(), message: v.string() })),
    contextRetry: flag,
    resume: v.exactOptional(v.object({ url: v.string(), lastEventId: v.string() })),
    toolCalls: v.exactOptional(
      v.array(
        v.object({
          id: v.string(),
          name: v.string(),
          arguments: v.string(),
          state: v.union(["input", "pending", "approval", "approved", "running", "done", "error", "refused"].map((state) => v.literal(state as ToolCallPart["state"]))),
          result: v.exactOptional(v.unknown()),
        }),
      ),
    ),
  }),
]);

const conversationSchema = v.object({
  format: v.literal("edgechat.conversation"),
  // 1: a list, each message following the one before; 2: a tree (`parentId`, `activeLeaf`). Both import.
  version: v.union([v.literal(1), v.literal(2)]),
  id: nonEmpty,
  model: nonEmpty,
  system: v.exactOptional(v.string()),
  title: v.exactOptional(v.string()),
  createdAt: finite,
  calibration: v.exactOptional(v.object({ text: factor, image: factor, samples: count })),
  usage: v.exactOptional(v.object({ promptTokens: count, completionTokens: count, cost: factor })),
  messages: v.array(messageSchema),
  activeLeaf: v.exactOptional(nonEmpty),
});
/** A validated document, its messages in memory form (image bytes, not base64), each with its parent, oldest first. */
export type ParsedConversation = Omit<ConversationJSON, "format" | "version" | "messages"> & { messages: Message[] };

const invalid = (path: string, message: string) => new ValidationError("conversation JSON", [{ path, message }]);

/** JSON text → value; text that is not JSON is a ValidationError like any other bad document. */
export function parseJSONText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError("conversation JSON", [{ path: "", message: `not JSON (${error instanceof Error ? error.message : String(error)})` }]);
  }
}

/** Validate all of it first, then build: a bad document never yields a half-built conversation. */
export function parseConversationJSON(input: unknown): ParsedConversation {
  const result = v.safeParse(conversationSchema, input);
  if (!result.success) {
    throw new ValidationError(
      "conversation JSON",
      result.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const data = result.output;
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

function partFromJSON(part: v.InferOutput<typeof partSchema>): MessagePart {
  if (part.type === "text" || !("data" in part)) return part;
  const { data, ...rest } = part;
  return { ...rest, data: base64ToBytes(data) };
}
