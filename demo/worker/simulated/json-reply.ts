// Answers in JSON, when asked: `response_format` `json_schema` (a value of its schema), `json_object` (a value of
// the schema the system text gives, as edgechat/structured sends it where only json_object can be asked for; else an
// object of facts about the request), or a user message asking for JSON in words (the facts object, in a ```json
// block, as a model writes it in a chat). The values come from the request (hints.ts), never invented.
import type { RequestFacts } from "./facts.js";
import { factHints, wordsOf } from "./hints.js";
import type { SimRequest } from "./request.js";
import { type JSONSchema, valueFor } from "./schema-value.js";

export interface JSONMode {
  /** The schema the value must match, if one was given. */
  schema: JSONSchema | undefined;
  /** Asked for in words, not by `response_format`: written as a ```json block. */
  fenced: boolean;
}

const ASKS_FOR_JSON =
  /\b(?:as|in|into|with|using|return|give me|output|reply|answer|respond|format(?:ted)?(?: as)?)\s+(?:(?:a|an|the|valid|only|pure|plain|some)\s+)*json\b|\bjson\s+(?:only|object|format|please)\b/i;

/** Whether the request asks for JSON, and of which schema. */
export function jsonMode(request: SimRequest, lastUserText: string): JSONMode | undefined {
  const format = request.responseFormat;
  if (format.type === "json_schema") return { schema: format.schema ?? schemaInSystemText(request), fenced: false };
  if (format.type === "json_object") return { schema: schemaInSystemText(request), fenced: false };
  return ASKS_FOR_JSON.test(lastUserText) ? { schema: undefined, fenced: true } : undefined;
}

/** The JSON text of the answer. `extra`: values tools returned, when the answer is written from their results. */
export function jsonAnswer(mode: JSONMode, facts: RequestFacts, extra: Record<string, unknown>[] = []): string {
  const hints = factHints(facts, extra);
  const value = mode.schema !== undefined ? valueFor(mode.schema, hints, wordsOf(facts.lastUser?.text ?? "")) : factsObject(facts, extra);
  const text = JSON.stringify(value, null, 2);
  return mode.fenced ? `\`\`\`json\n${text}\n\`\`\`` : text;
}

/** What the simulator knows about the request, as an object (never with a first key "name": that reads as a call). */
function factsObject(facts: RequestFacts, extra: Record<string, unknown>[]): Record<string, unknown> {
  const { request, lastUser } = facts;
  const images = facts.images
    .filter((i) => i.inLastUserMessage)
    .map(({ image, tiles, tokens }) => ({
      format: image.format ?? null,
      width: image.width ?? null,
      height: image.height ?? null,
      bytes: image.byteLength ?? null,
      dominant_colour: image.colour?.hex ?? null,
      tiles: tiles ?? null,
      estimated_tokens: tokens,
    }));
  return {
    simulated: true,
    note: "No language model ran: every value below was computed from your request.",
    message: lastUser ? { text: lastUser.text, words: lastUser.words, characters: lastUser.characters, lines: lastUser.lines } : null,
    conversation: { messages: request.messages.length, by_role: facts.roles, estimated_prompt_tokens: facts.promptTokens, context_window: facts.contextWindow },
    model: request.model,
    ...(images.length > 0 && { images }),
    ...(extra.length > 0 && { tool_results: extra }),
  };
}

/**
 * A JSON Schema written in the system text: after the words "JSON Schema", the first `{…}` that parses (what
 * edgechat/structured sends to a server that takes only `json_object`).
 */
export function schemaInSystemText(request: SimRequest): JSONSchema | undefined {
  for (const m of request.messages) {
    if (m.role !== "system") continue;
    const at = m.text.search(/json[ -]?schema/i);
    if (at === -1) continue;
    for (let start = m.text.indexOf("{", at); start !== -1; start = m.text.indexOf("{", start + 1)) {
      const end = objectEnd(m.text, start);
      if (end === -1) break;
      try {
        const value = JSON.parse(m.text.slice(start, end)) as unknown;
        if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as JSONSchema;
      } catch {}
    }
  }
  return undefined;
}

/** Where the JSON object at `start` ends (after its "}"), strings skipped; -1 if it does not. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return i + 1;
  }
  return -1;
}
