// What the Worker's side and the object say to each other (never seen by a client), and the answers clients get.
import type { RelayLimits } from "./limits.js";

/** The object's own URLs: it is reached only through its namespace binding, so the host is a placeholder. */
export const OBJECT_URL = "https://edgechat-relay.internal";
/** The owner's digest, on every read and cancel. */
export const OWNER_HEADER = "edgechat-relay-owner";
/** Marks the object's streams (never an upstream's answer passed on): the Worker's side swaps it for Edgechat-Resume. */
export const STREAM_HEADER = "edgechat-relay-stream";
export const RESUME_HEADER = "edgechat-resume";

/** What `start` sends the object. */
export interface StartMessage {
  id: string;
  owner: string;
  body: Record<string, unknown>;
  context: unknown;
  limits: RelayLimits;
}

export function errorJSON(status: number, type: string, code: string, message: string, headers: HeadersInit = {}): Response {
  const out = new Headers(headers);
  out.set("content-type", "application/json");
  return new Response(JSON.stringify({ error: { message, type, code } }), { status, headers: out });
}

/** The one answer for an unknown, expired or another client's generation: which of the three it was is not said. */
export function notFound(): Response {
  return errorJSON(404, "invalid_request_error", "generation_not_found", "No such generation: it does not exist, has expired, or was started by another client");
}
