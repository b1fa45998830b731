// The Worker's side: start a generation for a checked chat request, and answer GET and DELETE on its URL.
import { isGenerationId, newGenerationId, ownerDigest } from "./id.js";
import { type RelayLimits, resolveLimits } from "./limits.js";
import type { RelayNamespaceLike } from "./types.js";
import { errorJSON, notFound, OBJECT_URL, OWNER_HEADER, RESUME_HEADER, type StartMessage, STREAM_HEADER } from "./wire.js";

export interface RelayOptions {
  /** Where generations live: `"/v1/openai/generations/"` gives `Edgechat-Resume: /v1/openai/generations/<id>`. */
  path: string;
  /** Caps and retention for the generations this relay starts (see RelayLimits for the defaults). */
  limits?: Partial<RelayLimits>;
}

export interface StartOptions {
  /** The chat request, checked by the proxy, with `stream: true`. */
  body: Record<string, unknown>;
  /**
   * Who may read and cancel it: a string the proxy computes from the request (a user id, or the client identity it
   * rate-limits by, plus the Origin). Only its SHA-256 is kept.
   */
  owner: string;
  /** JSON for the object's `upstream()` hook alone (e.g. what a simulator needs); stored nowhere. */
  context?: unknown;
}

export interface Relay {
  /**
   * Start a generation: the object calls the upstream and answers with its stream (200 `text/event-stream`, every
   * event with an `id:`, and `Edgechat-Resume: <url>`), or with the upstream's refusal exactly as it came, in which
   * case nothing is kept.
   */
  start(options: StartOptions): Promise<Response>;
  /**
   * A request for a generation's URL: `GET` reads it (after `Last-Event-ID`), `DELETE` cancels it (204). Undefined
   * when the path is not under `path`. Unknown, expired and another owner's generations are the same 404.
   */
  route(request: Request, options: { owner: string }): Promise<Response | undefined>;
}

/**
 * The relay, from a Worker:
 *
 * ```ts
 * const relay = createRelay(env.GENERATIONS, { path: "/v1/openai/generations/" });
 * const routed = await relay.route(request, { owner });
 * if (routed) return routed;
 * if (body.stream === true) return relay.start({ body, owner });
 * ```
 */
export function createRelay(namespace: RelayNamespaceLike, options: RelayOptions): Relay {
  const limits = resolveLimits(options.limits);
  const path = options.path.endsWith("/") ? options.path : `${options.path}/`;
  const stub = (id: string) => namespace.get(namespace.idFromName(id));
  const present = (response: Response, id: string): Response => {
    if (!response.headers.has(STREAM_HEADER)) return response;
    const headers = new Headers(response.headers);
    headers.delete(STREAM_HEADER);
    headers.set(RESUME_HEADER, `${path}${id}`);
    return new Response(response.body, { status: response.status, headers });
  };

  return {
    async start({ body, owner, context = null }) {
      const id = newGenerationId();
      const message: StartMessage = { id, owner: await ownerDigest(owner), body, context, limits };
      const response = await stub(id).fetch(`${OBJECT_URL}/start`, { method: "POST", body: JSON.stringify(message) });
      return present(response, id);
    },

    async route(request, { owner }) {
      const { pathname } = new URL(request.url);
      if (!pathname.startsWith(path)) return undefined;
      if (request.method !== "GET" && request.method !== "DELETE") {
        return errorJSON(405, "invalid_request_error", "method_not_allowed", `${request.method} is not allowed on a generation`, { allow: "GET, DELETE" });
      }
      const id = pathname.slice(path.length);
      if (!isGenerationId(id)) return notFound();
      const headers = new Headers({ [OWNER_HEADER]: await ownerDigest(owner) });
      const last = request.headers.get("last-event-id");
      if (last !== null) headers.set("last-event-id", last);
      const get = request.method === "GET";
      const response = await stub(id).fetch(`${OBJECT_URL}/${get ? "read" : "cancel"}`, { method: request.method, headers });
      return present(response, id);
    },
  };
}
