import { ValidationError } from "../errors/validation.js";
import { redact } from "./read-text.js";

// What the one-shot call and the stream do alike with the JSON of a reply (a whole completion, or one chunk).

/** Parse a reply's JSON; text that is not JSON is a ValidationError quoting its start (the key redacted). */
export function parseReply(text: string, what: string, apiKey: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(what, [{ path: "", message: `not JSON: ${JSON.stringify(redact(text, apiKey).slice(0, 120))}` }]);
  }
}

/** An error in place of a reply: some servers send one with status 200, or as an event in the stream. */
export function isErrorPayload(json: unknown): boolean {
  if (typeof json !== "object" || json === null) return false;
  const o = json as { error?: unknown; object?: unknown };
  return (o.error !== undefined && o.error !== null) || o.object === "error";
}

/** The parsed body with the key removed wherever the server echoed it. */
export function redactJSON(json: unknown, apiKey: string | undefined): unknown {
  return apiKey ? JSON.parse(redact(JSON.stringify(json), apiKey)) : json;
}
