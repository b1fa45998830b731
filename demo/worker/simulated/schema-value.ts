// A JSON value that matches a JSON Schema, made from the schema alone plus what the simulator knows (hints by
// property name: the message's word count for "words", its first words for "title", …). For `response_format:
// json_schema` answers and for tool-call arguments. Covers what valibot's and OpenAI's schemas use: type (also a
// list), properties, required, additionalProperties, items, prefixItems, enum, const, anyOf/oneOf/allOf, $ref into
// the document, string formats and lengths, number ranges and multipleOf, array sizes. A `pattern` is honoured
// only when one of a few plain candidates happens to match it (generating from a regex is out of scope).

export type JSONSchema = boolean | { [key: string]: unknown };

/** Values the generator may use, by property name (see `normalName`); the first that fits the schema is taken. */
export type Hints = ReadonlyMap<string, readonly unknown[]>;

/** "word_count", "wordCount" and "Word-Count" all → "wordcount". */
export const normalName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "");

const MAX_DEPTH = 8;
const STRING_CANDIDATES = ["example", "a", "A", "0", "x1", "example@example.com", "2026-01-01"];

interface Context {
  root: JSONSchema;
  hints: Hints;
  /** Text to take words from when nothing better is known. */
  words: readonly string[];
  depth: number;
}

export function valueFor(schema: JSONSchema | undefined, hints: Hints = new Map(), words: readonly string[] = []): unknown {
  const root = schema ?? true;
  return generate(root, { root, hints, words: words.length > 0 ? words : ["example"], depth: 0 }, undefined);
}

function generate(schema: JSONSchema, ctx: Context, name: string | undefined): unknown {
  if (schema === true || schema === false) return fromHint(true, ctx, name) ?? (name ? phrase(ctx, 3) : {});
  const s = resolve(schema, ctx);
  if (ctx.depth > MAX_DEPTH) return minimal(s);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) {
    const hinted = fromHint(s, ctx, name);
    return hinted !== undefined ? hinted : s.enum[0];
  }
  const branches = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as JSONSchema[] | undefined;
  if (branches && branches.length > 0) {
    // The first branch that is not null: a value says more than null does.
    const pick = branches.find((b) => !(typeof b === "object" && b.type === "null")) ?? branches[0]!;
    return generate(mergeSiblings(s, pick), ctx, name);
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return generate(mergeAll(s), ctx, name);
  const hinted = fromHint(s, ctx, name);
  if (hinted !== undefined) return hinted;
  const next = { ...ctx, depth: ctx.depth + 1 };
  switch (typeOf(s)) {
    case "object":
      return object(s, next);
    case "array":
      return array(s, next, name);
    case "string":
      return string(s, ctx, name);
    case "integer":
      return number(s, 1, true);
    case "number":
      return number(s, 1, false);
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return name ? phrase(ctx, 3) : {};
  }
}

/** The schema's type: the first of a list that is not "null"; guessed from its keywords when not given. */
function typeOf(s: Record<string, unknown>): string | undefined {
  const t = s.type;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) return (t.find((x) => x !== "null") ?? t[0]) as string | undefined;
  if ("properties" in s || "required" in s || "additionalProperties" in s) return "object";
  if ("items" in s || "prefixItems" in s) return "array";
  if ("minLength" in s || "maxLength" in s || "pattern" in s || "format" in s) return "string";
  if ("minimum" in s || "maximum" in s) return "number";
  return undefined;
}

function object(s: Record<string, unknown>, ctx: Context): Record<string, unknown> {
  const properties = (typeof s.properties === "object" && s.properties !== null ? s.properties : {}) as Record<string, JSONSchema>;
  const required = Array.isArray(s.required) ? (s.required as unknown[]).filter((r): r is string => typeof r === "string") : [];
  const out: Record<string, unknown> = {};
  // Every declared property (optional ones too: a fuller answer), then required names the schema does not describe.
  for (const [key, sub] of Object.entries(properties)) out[key] = generate(sub, ctx, key);
  for (const key of required) if (!(key in out)) out[key] = generate(typeof s.additionalProperties === "object" ? (s.additionalProperties as JSONSchema) : true, ctx, key);
  return out;
}

function array(s: Record<string, unknown>, ctx: Context, name: string | undefined): unknown[] {
  const prefix = (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : []) as JSONSchema[];
  const items = (Array.isArray(s.items) ? (s.additionalItems ?? true) : (s.items ?? true)) as JSONSchema;
  const min = integerOr(s.minItems, 0);
  const max = integerOr(s.maxItems, Number.POSITIVE_INFINITY);
  const count = Math.max(prefix.length, Math.min(Math.max(min, prefix.length > 0 ? prefix.length : 2), max));
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const sub = prefix[i] ?? items;
    // Different words for different items of a list of strings (uniqueItems or not: a list of one word twice reads badly).
    const shifted = { ...ctx, words: rotate(ctx.words, i) };
    out.push(generate(sub, shifted, i < prefix.length ? undefined : name && singular(name)));
  }
  return out;
}

function string(s: Record<string, unknown>, ctx: Context, name: string | undefined): string {
  const min = integerOr(s.minLength, 0);
  const max = integerOr(s.maxLength, Number.POSITIVE_INFINITY);
  const now = new Date();
  const iso = now.toISOString();
  let value: string;
  switch (s.format) {
    case "date-time":
      value = iso;
      break;
    case "date":
      value = iso.slice(0, 10);
      break;
    case "time":
      value = iso.slice(11, 19);
      break;
    case "email":
      value = "user@example.com";
      break;
    case "uri":
    case "url":
      value = "https://example.com/";
      break;
    case "uuid":
      value = "00000000-0000-4000-8000-000000000000";
      break;
    default:
      value = phrase(ctx, name ? 3 : 6);
  }
  if (typeof s.pattern === "string") value = matching(s.pattern, value) ?? value;
  while ([...value].length < min) value += value ? ` ${value}` : "x";
  return [...value].slice(0, Math.max(min, Math.min(max, [...value].length))).join("");
}

function number(s: Record<string, unknown>, wanted: number, integer: boolean): number {
  const lo = numberOr(s.minimum, numberOr(s.exclusiveMinimum, Number.NEGATIVE_INFINITY, 1), 0);
  const hi = numberOr(s.maximum, numberOr(s.exclusiveMaximum, Number.POSITIVE_INFINITY, -1), 0);
  let n = Math.min(Math.max(wanted, lo), hi);
  const step = typeof s.multipleOf === "number" && s.multipleOf > 0 ? s.multipleOf : undefined;
  if (step) n = Math.ceil(n / step - 1e-9) * step;
  if (integer || typeOf(s) === "integer") n = Math.ceil(n);
  if (n > hi) n = step ? Math.floor(hi / step) * step : Math.floor(hi);
  return n;
}

/** A hint for this property that fits the schema (its type, enum, range and lengths), or undefined. */
function fromHint(s: JSONSchema, ctx: Context, name: string | undefined): unknown {
  if (!name) return undefined;
  for (const candidate of ctx.hints.get(normalName(name)) ?? []) {
    const fitted = fit(s, candidate);
    if (fitted !== undefined) return fitted;
  }
  return undefined;
}

/** `value` if the schema accepts it (numbers clamped into range, strings cut to length), else undefined. */
function fit(s: JSONSchema, value: unknown): unknown {
  if (s === true) return value;
  if (s === false) return undefined;
  // Schemas that point elsewhere or combine others are generated, not matched against a hint.
  if ("$ref" in s || "allOf" in s || "not" in s) return undefined;
  if ("const" in s) return JSON.stringify(s.const) === JSON.stringify(value) ? value : undefined;
  const branches = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as JSONSchema[] | undefined;
  if (branches) {
    for (const branch of branches) {
      const fitted = fit(typeof branch === "object" ? mergeSiblings(s, branch) : branch, value);
      if (fitted !== undefined) return fitted;
    }
    return undefined;
  }
  if (Array.isArray(s.enum)) {
    if (s.enum.includes(value)) return value;
    const lower = typeof value === "string" ? value.toLowerCase() : undefined;
    return s.enum.find((e) => typeof e === "string" && e.toLowerCase() === lower);
  }
  const type = typeOf(s);
  const types = Array.isArray(s.type) ? (s.type as string[]) : type ? [type] : [];
  if (value === null) return types.includes("null") ? null : undefined;
  switch (typeof value) {
    case "string": {
      if (types.length > 0 && !types.includes("string")) return undefined;
      if (s.format !== undefined || (typeof s.pattern === "string" && !safeTest(s.pattern, value))) return undefined;
      const max = integerOr(s.maxLength, Number.POSITIVE_INFINITY);
      return [...value].length >= integerOr(s.minLength, 0) ? [...value].slice(0, max).join("") : undefined;
    }
    case "number":
      if (types.includes("integer") && !types.includes("number") && !Number.isInteger(value)) return undefined;
      return types.length === 0 || types.includes("number") || types.includes("integer") ? number(s, value, false) : undefined;
    case "boolean":
      return types.length === 0 || types.includes("boolean") ? value : undefined;
    case "object":
      if (Array.isArray(value)) {
        if (types.length > 0 && !types.includes("array")) return undefined;
        const prefix = (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : []) as JSONSchema[];
        const rest = (Array.isArray(s.items) ? (s.additionalItems ?? true) : (s.items ?? true)) as JSONSchema;
        const fitted = value.map((v, i) => fit(prefix[i] ?? rest, v));
        if (fitted.some((v) => v === undefined)) return undefined;
        const min = integerOr(s.minItems, 0);
        return fitted.length >= min ? fitted.slice(0, integerOr(s.maxItems, Number.POSITIVE_INFINITY)) : undefined;
      }
      return types.length === 0 || types.includes("object") ? fitObject(s, value as Record<string, unknown>) : undefined;
    default:
      return undefined;
  }
}

/** An object hint, if each of its properties fits the schema's and none the schema requires is missing. */
function fitObject(s: Record<string, unknown>, value: Record<string, unknown>): Record<string, unknown> | undefined {
  const properties = (typeof s.properties === "object" && s.properties !== null ? s.properties : {}) as Record<string, JSONSchema>;
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  if (required.some((key) => !(key in value))) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const sub = properties[key] ?? (s.additionalProperties as JSONSchema | undefined) ?? true;
    const fitted = fit(sub, item);
    if (fitted === undefined) return undefined;
    out[key] = fitted;
  }
  return out;
}

/** Follow `$ref` (a pointer into the same document: `#/$defs/x`, `#/definitions/x`), keeping sibling keywords. */
function resolve(s: Record<string, unknown>, ctx: Context): Record<string, unknown> {
  let current = s;
  for (let hops = 0; typeof current.$ref === "string" && hops < MAX_DEPTH; hops++) {
    const target = pointer(ctx.root, current.$ref);
    const { $ref: _, ...rest } = current;
    current = typeof target === "object" && target !== null ? { ...(target as Record<string, unknown>), ...rest } : rest;
  }
  return current;
}

function pointer(root: JSONSchema, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    at = typeof at === "object" && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at;
}

/** `{ description, anyOf: [a, b] }` with branch `a` → a's keywords over the parent's others. */
function mergeSiblings(parent: Record<string, unknown>, branch: JSONSchema): JSONSchema {
  const { anyOf: _a, oneOf: _o, ...rest } = parent;
  return typeof branch === "object" ? { ...rest, ...branch } : branch;
}

function mergeAll(s: Record<string, unknown>): Record<string, unknown> {
  const { allOf, ...rest } = s;
  const merged: Record<string, unknown> = { ...rest };
  for (const part of allOf as JSONSchema[]) {
    if (typeof part !== "object") continue;
    const properties = { ...(merged.properties as object), ...(part.properties as object) };
    const required = [...((merged.required as string[]) ?? []), ...((part.required as string[]) ?? [])];
    Object.assign(merged, part, { properties, required });
  }
  return merged;
}

/** The smallest value of a schema, where nesting goes too deep. */
function minimal(s: Record<string, unknown>): unknown {
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes("null")) return null;
  switch (typeOf(s)) {
    case "array":
      return [];
    case "string":
      return "";
    case "integer":
    case "number":
      return number(s, 0, typeOf(s) === "integer");
    case "boolean":
      return false;
    default:
      return {};
  }
}

function matching(pattern: string, first: string): string | undefined {
  return [first, ...STRING_CANDIDATES].find((c) => safeTest(pattern, c));
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return false;
  }
}

function phrase(ctx: Context, count: number): string {
  return ctx.words.slice(0, count).join(" ");
}

function rotate<T>(list: readonly T[], by: number): readonly T[] {
  if (list.length < 2) return list;
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Hints for a list's items come under the list's name in the singular: "tags" → "tag". */
const singular = (name: string) => (name.endsWith("s") ? name.slice(0, -1) : name);

function integerOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.floor(value) : fallback;
}

/** A bound: `value` when a number (nudged by `exclusive` for exclusive bounds), else `fallback`. */
function numberOr(value: unknown, fallback: number, exclusive: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value + exclusive : fallback;
}
