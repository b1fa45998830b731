// The checks json.ts reads a conversation document with. Written out, not valibot's: the client validates stream
// chunks with valibot, so a bundler puts valibot in the chunk an app loads first, and each valibot function only a
// document needs (variant, union, pipe, check, looseObject...) would load with it although json.ts loads lazily.
// These load with json.ts. A check returns what it accepted, typed, or throws a ValidationError naming the first
// problem's path; the messages are valibot's, so a document is rejected in the same words as before.
import { ValidationError } from "../errors/validation.js";

/** Checks the value found at `path` (`messages[3].content[0].data`; "" for the document) and returns it, typed. */
export interface Check<T> {
  (value: unknown, path: string): T;
  /** The key may be absent; present, its value is checked, so `undefined` is rejected (JSON has none). */
  optional?: true;
}

export const invalid = (path: string, message: string) => new ValidationError("conversation JSON", [{ path, message }]);

/** `Invalid type: Expected string but received 7`. */
export function wrongType(expected: string, value: unknown, path: string): never {
  throw invalid(path, `Invalid type: Expected ${expected} but received ${shown(value)}`);
}

/** A value as valibot names it: `"text"`, `7`, `undefined`, `null`, `Object`, `Array`. */
function shown(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "object" || typeof value === "function") return (value && Object.getPrototypeOf(value)?.constructor?.name) ?? "null";
  return typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" ? String(value) : typeof value;
}

export const string: Check<string> = (value, path) => (typeof value === "string" ? value : wrongType("string", value, path));
export const number: Check<number> = (value, path) => (typeof value === "number" && !Number.isNaN(value) ? value : wrongType("number", value, path));
export const boolean: Check<boolean> = (value, path) => (typeof value === "boolean" ? value : wrongType("boolean", value, path));

/** One of these strings or numbers: `Expected ("user" | "assistant") but received "bot"`. */
export function oneOf<const T extends readonly (string | number)[]>(...values: T): Check<T[number]> {
  const expected = values.length > 1 ? `(${values.map(shown).join(" | ")})` : shown(values[0]);
  return (value, path) => (values.includes(value as T[number]) ? (value as T[number]) : wrongType(expected, value, path));
}

/** Of the type `check` wants, and `ok` too; if not ok, `message` ("Expected base64"). */
export function refine<T>(check: Check<T>, ok: (value: T) => boolean, message: string): Check<T> {
  return (value, path) => {
    const checked = check(value, path);
    if (!ok(checked)) throw invalid(path, message);
    return checked;
  };
}

export function optional<T>(check: Check<T>): Check<T> & { optional: true } {
  return Object.assign((value: unknown, path: string) => check(value, path), { optional: true as const });
}

export function array<T>(item: Check<T>): Check<T[]> {
  // Array.from, not map: a hole is checked as `undefined`, not skipped.
  return (value, path) => (Array.isArray(value) ? Array.from(value, (x, i) => item(x, `${path}[${i}]`)) : wrongType("Array", value, path));
}

type Shape = Record<string, Check<unknown>>;
type Fields<S extends Shape> = { [K in keyof S as S[K] extends { optional: true } ? never : K]: ReturnType<S[K]> } & {
  [K in keyof S as S[K] extends { optional: true } ? K : never]?: ReturnType<S[K]>;
};

// Never copied from a loose object: assigning "__proto__" would set the copy's prototype.
const UNSAFE = new Set(["__proto__", "prototype", "constructor"]);

/**
 * An object with these fields, returned as a new object holding only them: other keys are dropped, not rejected (as
 * valibot's `object`). `loose` keeps the other keys' values as they are (valibot's `looseObject`).
 */
export function object<S extends Shape>(shape: S, loose = false): Check<Fields<S>> {
  return (value, path) => {
    if (typeof value !== "object" || value === null) return wrongType("Object", value, path);
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key in shape) {
      const at = path ? `${path}.${key}` : key;
      if (key in input) out[key] = shape[key]!(input[key], at);
      else if (!shape[key]!.optional) throw invalid(at, `Invalid key: Expected "${key}" but received undefined`);
    }
    if (loose) for (const key in input) if (Object.hasOwn(input, key) && !Object.hasOwn(shape, key) && !UNSAFE.has(key)) out[key] = input[key];
    return out as Fields<S>;
  };
}
