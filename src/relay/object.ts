import { Generation } from "./generation.js";
import { createReader } from "./readers.js";
import { endingPast, endOrphan } from "./recover.js";
import { readState } from "./storage.js";
import type { RelayStateLike } from "./types.js";
import { errorJSON, notFound, OWNER_HEADER, type StartMessage, STREAM_HEADER } from "./wire.js";

/** The alarm looks at a streaming generation at least this often: each alarm is an event, which keeps the object in memory. */
export const HEARTBEAT_MS = 30_000;

/** Upstream headers not passed on with the relay's stream: it is framed anew (and cookies stay with the proxy). */
const DROP = /^(connection|keep-alive|transfer-encoding|content-length|content-encoding|content-type|cache-control|set-cookie2?|edgechat-relay-.*)$/i;

/** What `upstream()` gets: the checked request, the proxy's context, and the signal that ends the upstream request. */
export interface UpstreamCall {
  /** The chat request as the proxy checked it (with `stream: true`). */
  body: Record<string, unknown>;
  /** Whatever JSON the proxy passed to `start()` as `context` (never the key: the hook reads that from `this.env`). */
  context: unknown;
  /** Aborted when the relay ends the generation (cancel, a cap): pass it to `fetch`, so the upstream's connection closes. */
  signal: AbortSignal;
}

/**
 * A Durable Object class that runs generations, one object per generation: it makes the upstream request, numbers
 * the events, stores them in batches and serves them to any number of readers, who can leave and come back with
 * `Last-Event-ID`. Subclass it with the upstream call, export the class from the Worker, declare it under
 * `new_sqlite_classes`, and reach it with `createRelay(env.GENERATIONS, …)`:
 *
 * ```ts
 * export class Generations extends GenerationRelayObject<Env> {
 *   protected upstream({ body, signal }: UpstreamCall) {
 *     return fetch("https://api.deepinfra.com/v1/openai/chat/completions", {
 *       method: "POST", body: JSON.stringify(body), signal,
 *       headers: { authorization: `Bearer ${this.env.DEEPINFRA_TOKEN}`, "content-type": "application/json" },
 *     });
 *   }
 * }
 * ```
 *
 * The generation runs in `ctx.waitUntil`, not in a request, so a reader that leaves only detaches; an alarm every
 * 30 s while it streams keeps the object in memory when no reader is attached (see the README for what survives
 * an eviction or a deploy).
 */
export abstract class GenerationRelayObject<Env = unknown> {
  protected readonly ctx: RelayStateLike;
  protected readonly env: Env;
  /** The generation this instance started, while it is in memory. */
  #live: Generation | undefined;

  constructor(ctx: RelayStateLike, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }

  /** The model server's answer to one chat request, streamed (called once per generation, inside this object). */
  protected abstract upstream(call: UpstreamCall): Promise<Response>;

  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/start" && request.method === "POST") return this.#start((await request.json()) as StartMessage);
    const state = await this.#current();
    // Unknown, expired and foreign look the same, and nothing is written for them.
    if (!state || state.owner !== request.headers.get(OWNER_HEADER)) return notFound();
    if (path === "/cancel" && request.method === "DELETE") {
      this.#live?.end("cancelled");
      return new Response(null, { status: 204 });
    }
    if (path === "/read" && request.method === "GET") {
      const last = request.headers.get("last-event-id")?.trim() ?? "";
      if (!/^\d{0,15}$/.test(last)) return errorJSON(400, "invalid_request_error", "invalid_last_event_id", "Last-Event-ID must be an event id this relay sent");
      const after = Number(last);
      // The instance that ran it also holds what is not written yet (even once it has ended, for up to 100 ms).
      if (this.#live) return streamResponse(this.#live.read(after));
      const past = endingPast(this.ctx.storage, state, after);
      return streamResponse(past === undefined ? createReader(this.ctx.storage, after) : once(past));
    }
    return notFound();
  }

  /** While streaming: the caps' backstop and the heartbeat. Once finished: deletes everything when it expires. */
  async alarm(): Promise<void> {
    const state = await this.#current();
    if (!state) return;
    const now = Date.now();
    const live = this.#live;
    if (live && !live.ended) {
      live.checkCaps(now);
      if (!live.ended) await this.ctx.storage.setAlarm(live.nextCheck(now, HEARTBEAT_MS));
      return;
    }
    // Ended: the alarm that deletes it (its last write sets one too, if that is still to come).
    if (state.expiresAt !== undefined) await this.ctx.storage.setAlarm(state.expiresAt);
  }

  async #start(message: StartMessage): Promise<Response> {
    // Nothing is read or written before the upstream has answered with a stream: a refusal leaves no trace.
    if (this.#live) return exists();
    const state = { id: message.id, owner: message.owner, reason: undefined, startedAt: Date.now(), expiresAt: undefined, limits: message.limits, model: String(message.body.model ?? "") };
    const generation = new Generation(this.ctx.storage, state, (expiresAt) => void this.ctx.storage.setAlarm(expiresAt).catch(() => undefined));
    this.#live = generation;
    this.ctx.waitUntil(generation.done);
    let upstream: Response;
    try {
      upstream = await this.upstream({ body: message.body, context: message.context, signal: generation.signal });
    } catch {
      this.#forget(generation);
      return errorJSON(502, "server_error", "upstream_unreachable", "The relay could not reach the model server");
    }
    const type = upstream.headers.get("content-type") ?? "";
    if (!upstream.ok || !upstream.body || !/^text\/event-stream/i.test(type)) {
      // Refused (or not a stream): passed on as it is, and nothing is kept.
      this.#forget(generation);
      const headers = new Headers(upstream.headers);
      headers.delete(STREAM_HEADER);
      return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
    }
    if (readState(this.ctx.storage)) {
      this.#forget(generation);
      await upstream.body.cancel();
      return exists();
    }
    generation.begin(upstream.body);
    await this.ctx.storage.setAlarm(generation.nextCheck(Date.now(), HEARTBEAT_MS));
    const headers = new Headers();
    upstream.headers.forEach((value, key) => void (DROP.test(key) || headers.set(key, value)));
    return streamResponse(generation.read(0), headers);
  }

  #forget(generation: Generation): void {
    generation.abandon();
    if (this.#live === generation) this.#live = undefined;
  }

  /**
   * The stored state, settled: an expired generation is deleted (the alarm may not have run yet), and one left
   * streaming by an instance that is gone (eviction, deploy) gets its ending.
   */
  async #current() {
    const storage = this.ctx.storage;
    const state = this.#live?.state ?? readState(storage);
    if (!state) return undefined;
    const now = Date.now();
    if (state.expiresAt !== undefined && state.expiresAt <= now) {
      this.#live = undefined;
      await storage.deleteAlarm();
      await storage.deleteAll();
      return undefined;
    }
    if (state.reason === undefined && !this.#live) await storage.setAlarm(endOrphan(storage, state, now));
    return state;
  }
}

// Only a caller that sends one start twice meets this: ids are random and made by createRelay.
const exists = () => errorJSON(409, "invalid_request_error", "generation_exists", "This generation has already started");

function once(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
}

function streamResponse(body: ReadableStream<Uint8Array>, headers = new Headers()): Response {
  headers.set("content-type", "text/event-stream");
  headers.set("cache-control", "no-cache");
  headers.set(STREAM_HEADER, "1");
  return new Response(body, { status: 200, headers });
}
