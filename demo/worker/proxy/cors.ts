import { errorResponse } from "./errors.js";

/**
 * Response headers a page may read besides the CORS-safelisted ones: the SDK honours Retry-After on 429, and
 * resumes a streamed reply at the URL Edgechat-Resume names.
 */
const EXPOSED = "retry-after, retry-after-ms, x-request-id, x-should-retry, edgechat-resume";
/** DELETE cancels a generation; GET reads one (and /info). */
const METHODS = "GET, POST, DELETE, OPTIONS";
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/**
 * A request without `Origin` is not from a page (curl, a server, the SDK in Node): the allowlist guards
 * browsers only, so it passes, and the rate limit still applies. A page's origin must be listed (or `*`).
 */
export function isAllowedOrigin(origin: string | null, allowed: readonly string[]): boolean {
  return origin === null || allowed.includes("*") || allowed.includes(origin);
}

export function originRejected(origin: string): Response {
  // No Access-Control-Allow-Origin: the foreign page learns nothing, not even this message.
  const message = `Origin ${origin.slice(0, 200)} is not allowed to use this proxy (ALLOWED_ORIGINS)`;
  return errorResponse(403, "permission_error", "origin_not_allowed", message, { headers: { vary: "Origin" } });
}

/** Adds the CORS headers for an allowed page origin (none when the request had no Origin). */
export function withCors(response: Response, origin: string | null): Response {
  const headers = new Headers(response.headers);
  headers.append("vary", "Origin");
  if (origin !== null) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-expose-headers", EXPOSED);
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * Answer a preflight from an allowed origin: the methods above with the headers it asks for (none of them is
 * forwarded), Last-Event-ID always among them (a resume sends it).
 */
export function preflight(request: Request, origin: string | null): Response {
  const headers = new Headers({ "access-control-allow-methods": METHODS, "access-control-max-age": "600", vary: "Origin, Access-Control-Request-Headers" });
  const asked = (request.headers.get("access-control-request-headers") ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => TOKEN.test(h));
  headers.set("access-control-allow-headers", [...new Set(["content-type", "accept", "last-event-id", ...asked])].join(", "));
  if (origin !== null) headers.set("access-control-allow-origin", origin);
  return new Response(null, { status: 204, headers });
}
