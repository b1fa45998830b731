// Which way to ask (`json_schema` or `json_object`), and when "auto" switches from the first to the second.
import type { Client } from "../client/client.js";
import type { ChatCompletionCreateParamsBase } from "../client/types.js";
import { BadRequestError, ContextLengthError, UnprocessableEntityError } from "../errors/api.js";
import { type StandardSchema, toJSONSchema } from "../schema/standard.js";
import { formatOf, type ResponseFormatOptions, schemaInstruction, withSystemText } from "./response-format.js";

/**
 * `json_schema`: `response_format` with the JSON Schema. `json_object`: `{ type: "json_object" }`, the schema told in
 * the system message. `auto`: `json_schema`, and once `json_object` if the server refuses it.
 */
export type ObjectMode = "json_schema" | "json_object" | "auto";

/** Clients whose server refused `json_schema` and then took `json_object`: "auto" asks them for json_object at once. */
const refusesSchema = new WeakSet<Client>();

/** The mode of the first request. */
export function firstMode(client: Client, mode: ObjectMode): "json_schema" | "json_object" {
  return mode === "json_object" || (mode === "auto" && refusesSchema.has(client)) ? "json_object" : "json_schema";
}

/** After a refusal, `json_object` was taken: remember it for this client. */
export function rememberRefusal(client: Client): void {
  refusesSchema.add(client);
}

/**
 * The server refused the request itself: a 400 or 422 that is not a context overflow (some servers say that with a
 * 400 too; another format would not make the prompt fit).
 */
export function isRefusal(error: unknown): boolean {
  return (error instanceof BadRequestError || error instanceof UnprocessableEntityError) && !(error instanceof ContextLengthError);
}

/** `params` asking for JSON of `schema` (a JSON Schema) in `mode`. */
export function objectParams<P extends ChatCompletionCreateParamsBase>(
  params: P,
  schema: Record<string, unknown>,
  mode: "json_schema" | "json_object",
  format: ResponseFormatOptions,
): P {
  if (mode === "json_schema") return { ...params, response_format: formatOf(schema, format) };
  return { ...params, messages: withSystemText(params.messages, schemaInstruction(schema)), response_format: { type: "json_object" } };
}

/** What `streamObject` and `createObject` take: a request's parameters but `response_format`, and the schema. */
export interface ObjectParams<S extends StandardSchema> extends Omit<ChatCompletionCreateParamsBase, "response_format">, ResponseFormatOptions {
  /** Any Standard Schema (valibot, zod, arktype…) whose JSON Schema edgechat can get (see `responseFormat`). */
  schema: S;
  /** Default "auto". */
  mode?: ObjectMode;
}

/** The request to send first, and in "auto" mode the one to send once instead if the server refuses it. */
export function objectRequests<S extends StandardSchema>(client: Client, params: ObjectParams<S>) {
  const { schema, mode = "auto", name, description, strict, ...request } = params;
  const json = toJSONSchema(schema);
  const format = { name, description, strict };
  const first = firstMode(client, mode);
  return {
    schema,
    first: objectParams(request, json, first, format),
    fallback: mode === "auto" && first === "json_schema" ? objectParams(request, json, "json_object", format) : undefined,
  };
}
