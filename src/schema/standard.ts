// Schemas for tool arguments and structured output: any Standard Schema (valibot, zod, arktype…) validates; its JSON
// Schema comes from @valibot/to-json-schema for valibot, from Standard JSON Schema (`~standard.jsonSchema`) for the
// others, or is given.
import { toJsonSchema } from "@valibot/to-json-schema";
import type { BaseIssue, BaseSchema } from "valibot";
import { type ValidationIssue, ValidationError } from "../errors/validation.js";

/** The Standard Schema v1 interface (standardschema.dev), as much of it as edgechat reads. */
export interface StandardSchema<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
    /** Standard JSON Schema (zod 4.2+, arktype…). */
    readonly jsonSchema?: { readonly input: (options: { target: string }) => Record<string, unknown> } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined }> };

/** What a schema's value is, once validated. */
export type Infer<S> = S extends StandardSchema<unknown, infer O> ? O : never;

/** JSON Schema of `schema`: from its vendor's converter; an error when it has none (then pass a JSON Schema yourself). */
export function toJSONSchema(schema: StandardSchema): Record<string, unknown> {
  const std = schema["~standard"];
  if (std.vendor === "valibot") {
    const { $schema: _, ...json } = toJsonSchema(schema as unknown as BaseSchema<unknown, unknown, BaseIssue<unknown>>, { errorMode: "ignore" }) as Record<string, unknown>;
    return json;
  }
  if (std.jsonSchema) return std.jsonSchema.input({ target: "draft-07" });
  throw new TypeError(`No JSON Schema for a "${std.vendor}" schema: give one (jsonSchema) beside it`);
}

/** `value` checked against `schema`: its output, or a `ValidationError` naming the first bad path ("Invalid <what>: path: message"). */
export async function validate<S extends StandardSchema>(schema: S, value: unknown, what: string): Promise<Infer<S>> {
  const result = await schema["~standard"].validate(value);
  if (!result.issues) return result.value as Infer<S>;
  const issues: ValidationIssue[] = result.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }));
  throw new ValidationError(what, issues);
}

function pathOf(path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string {
  let out = "";
  for (const item of path ?? []) {
    const key = typeof item === "object" ? item.key : item;
    out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  }
  return out;
}
