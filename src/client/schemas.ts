import * as v from "valibot";
import { formatPath, ValidationError, type ValidationIssue } from "../errors/validation.js";
import type { ChatCompletion, ChatCompletionChunk } from "./types.js";

// Plain objects, not loose ones: unknown fields are allowed either way, and since `validate` returns its input
// rather than valibot's output, they are kept too; `v.object` is the smaller of the two.
// exactOptional: JSON has no `undefined`, and it keeps the inferred types equal to types.ts under exactOptionalPropertyTypes.
const number = v.number();
const string = v.string();
// Shared rather than repeated: each call is another schema object at load time and more code in the bundle.
const optionalString = v.exactOptional(string);
const nullableString = v.nullable(string);
const optionalNullableString = v.exactOptional(nullableString);

const usage = v.object({
  prompt_tokens: number,
  completion_tokens: number,
  total_tokens: number,
  estimated_cost: v.exactOptional(number),
});

const toolCall = v.object({
  id: string,
  type: v.literal("function"),
  function: v.object({ name: string, arguments: string }),
});

// As servers send them: the index missing (Ollama before 0.4.7), nulls for what a delta does not carry (DeepInfra).
const toolCallDelta = v.object({
  index: v.exactOptional(number),
  id: optionalNullableString,
  type: optionalNullableString,
  function: v.exactOptional(v.nullable(v.object({ name: optionalNullableString, arguments: optionalNullableString }))),
});

const envelope = { id: string, object: optionalString, created: number, model: string, usage: v.exactOptional(v.nullable(usage)) };

export const chunkSchema = v.object({
  ...envelope,
  choices: v.array(
    v.object({
      index: number,
      delta: v.object({ role: optionalString, content: optionalNullableString, tool_calls: v.exactOptional(v.nullable(v.array(toolCallDelta))) }),
      finish_reason: optionalNullableString,
    }),
  ),
});

export const completionSchema = v.object({
  ...envelope,
  choices: v.array(
    v.object({
      index: number,
      message: v.object({ role: v.literal("assistant"), content: nullableString, tool_calls: v.exactOptional(v.array(toolCall)) }),
      finish_reason: nullableString,
    }),
  ),
});

// The hand-written types in types.ts are what users see; these checks keep them and the schemas in step.
type Assert<T extends true> = T;
export type _ChunkInSync = Assert<v.InferOutput<typeof chunkSchema> extends ChatCompletionChunk ? true : false>;
export type _CompletionInSync = Assert<v.InferOutput<typeof completionSchema> extends ChatCompletion ? true : false>;

/**
 * Validate without copying: the schemas have no transforms, so a valid input is returned as is
 * (valibot's output would be a deep copy of it — wasted work on the stream's hot path).
 */
export function validate<T>(schema: v.GenericSchema, value: unknown, what: string): T {
  const result = v.safeParse(schema, value);
  if (result.success) return value as T;
  throw new ValidationError(what, result.issues.map(toIssue));
}

function toIssue(issue: v.BaseIssue<unknown>): ValidationIssue {
  return { path: formatPath(issue.path), message: issue.message };
}
