// What the structured-output tests share: a schema, a value of it, and a reply split into tiny deltas.
import * as v from "valibot";
import type { Handler } from "../helpers/upstream.ts";
import { completion, json, streamReply } from "../helpers/upstream.ts";

export const Order = v.object({
  title: v.string(),
  items: v.array(v.object({ name: v.string(), price: v.number() })),
  paid: v.boolean(),
});

export const order = { title: "Lunch \"à deux\"", items: [{ name: "leek soup", price: 4.5 }, { name: "bread", price: 1.25 }, { name: "tea", price: 2 }], paid: false };
export const orderText = JSON.stringify(order, null, 1);

/** `text` in pieces of `size` characters: a server that streams a token or less at a time. */
export function pieces(text: string, size = 3): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A server that takes only `json_object` (as DeepInfra documents): a 400 to `json_schema`, else `then`. */
export function onlyJSONObject(then: Handler, refusal: { status: number; body: unknown } = { status: 400, body: { error: { message: "response_format type json_schema is not supported", type: "invalid_request_error" } } }): Handler {
  return (req, res) => (req.body.response_format?.type === "json_schema" ? json(refusal.status, refusal.body)(req, res) : then(req, res));
}

export const streamed = (text: string, size = 3) => streamReply(pieces(text, size));
export const whole = (text: string) => json(200, completion(text));

/**
 * Whether `partial` could still become `final`: strings are prefixes, arrays no longer (each item partial of the
 * final's), objects hold some of the final's keys (each value partial); numbers and booleans are equal.
 */
export function isPartialOf(partial: unknown, final: unknown): boolean {
  if (typeof partial === "string") return typeof final === "string" && final.startsWith(partial);
  if (Array.isArray(partial)) return Array.isArray(final) && partial.length <= final.length && partial.every((p, i) => isPartialOf(p, final[i]));
  if (typeof partial === "object" && partial !== null) {
    if (typeof final !== "object" || final === null || Array.isArray(final)) return false;
    return Object.entries(partial).every(([k, p]) => k in final && isPartialOf(p, (final as Record<string, unknown>)[k]));
  }
  return Object.is(partial, final);
}
