// The two ways to ask a server for JSON of a schema: `response_format: json_schema` (OpenAI, vLLM, llama.cpp), or
// `json_object` with the schema told in system text (DeepInfra documents only `text` and `json_object`).
import type { ChatMessage, ResponseFormat } from "../client/types.js";
import { type StandardSchema, toJSONSchema } from "../schema/standard.js";

export interface ResponseFormatOptions {
  /** The format's name, as OpenAI wants it: letters, digits, `_` and `-`, at most 64. Default "response". */
  name?: string | undefined;
  description?: string | undefined;
  /**
   * OpenAI's constrained decoding: every property required and `additionalProperties: false` in the JSON Schema
   * (valibot's `strictObject`), or the server refuses it. Not sent unless given.
   */
  strict?: boolean | undefined;
}

type JSONSchemaFormat = Extract<ResponseFormat, { type: "json_schema" }>;

/** `response_format` asking for a JSON value of `schema`: its JSON Schema, named. */
export function responseFormat(schema: StandardSchema, options: ResponseFormatOptions = {}): JSONSchemaFormat {
  return formatOf(toJSONSchema(schema), options);
}

/** @internal `responseFormat` from a JSON Schema already made. */
export function formatOf(schema: Record<string, unknown>, { name = "response", description, strict }: ResponseFormatOptions): JSONSchemaFormat {
  if (!/^[\w-]{1,64}$/.test(name)) throw new TypeError(`response_format name ${JSON.stringify(name)}: use 1–64 letters, digits, _ or -`);
  return {
    type: "json_schema",
    json_schema: { name, ...(description !== undefined && { description }), schema, ...(strict !== undefined && { strict }) },
  };
}

/** @internal The system text that asks for the schema's JSON where only `json_object` can be asked for. */
export function schemaInstruction(schema: Record<string, unknown>): string {
  return `Reply with only a JSON value that matches this JSON Schema, with no other text:\n${JSON.stringify(schema)}`;
}

/**
 * @internal `messages` with `text` added to the system message: joined to the first message when it is one (Llama's
 * template expects one system message, first), else as a new first message.
 */
export function withSystemText(messages: readonly ChatMessage[], text: string): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first?.role !== "system") return [{ role: "system", content: text }, ...messages];
  const content = typeof first.content === "string" ? `${first.content}\n\n${text}` : [...first.content, { type: "text" as const, text: `\n\n${text}` }];
  return [{ ...first, content }, ...rest];
}
