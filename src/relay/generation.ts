// One generation while its object is in memory: the upstream's events numbered, fanned out to every reader,
// written to storage in batches, and ended by the upstream's [DONE], a cancel, a cap or a dropped upstream.
import { createSSEParser } from "../sse/parser.js";
import { endingData, type EndReason } from "./ending.js";
import { eventText } from "./events.js";
import type { RelayLimits } from "./limits.js";
import { createReader, type Reader } from "./readers.js";
import { createState, type GenerationState, writeBatch } from "./storage.js";
import type { RelayStorageLike } from "./types.js";

/**
 * No two storage writes of a generation closer than this (its creation included); events in between are served
 * from memory, so a reader never waits for a write.
 */
export const FLUSH_MS = 100;

/**
 * A comment to the readers after this much silence: a runtime notices that a client has gone only when it writes
 * to it (and the detached cap counts from then), and proxies cut a stream that stays idle for long.
 */
export const KEEPALIVE_MS = 15_000;

const encoder = new TextEncoder();

export class Generation {
  readonly state: GenerationState;
  /** Resolves once it has ended and its last batch is written: the object keeps it in `waitUntil`. */
  readonly done: Promise<void>;
  readonly #storage: RelayStorageLike;
  readonly #abort = new AbortController();
  readonly #readers = new Set<Reader>();
  readonly #onEnd: (expiresAt: number) => void;
  #resolveDone!: () => void;
  #streaming = false;
  #ended = false;
  #lastId = 0;
  /** Events not yet written, each with its id and text. */
  #pending: { id: number; text: string }[] = [];
  #bytes = 0;
  /** The data of the last chunk: its id, created and model go into an ending the relay writes. */
  #lastChunk: string | undefined;
  #lastFlushAt = Number.NEGATIVE_INFINITY;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #capTimer: ReturnType<typeof setTimeout> | undefined;
  #detachedTimer: ReturnType<typeof setTimeout> | undefined;
  #detachedSince: number | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #lastSentAt = 0;
  #upstream: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(storage: RelayStorageLike, state: GenerationState, onEnd: (expiresAt: number) => void) {
    this.#storage = storage;
    this.state = state;
    this.#onEnd = onEnd;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Aborted when the relay ends the generation: the upstream call passes it to fetch, which closes the connection. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The upstream answered with a stream: store the generation and read it on, in the background. */
  begin(body: ReadableStream<Uint8Array>): void {
    createState(this.#storage, this.state);
    this.#lastFlushAt = Date.now();
    this.#streaming = true;
    const { maxDurationMs } = this.state.limits;
    this.#capTimer = setTimeout(() => this.end("max_duration"), Math.max(0, this.state.startedAt + maxDurationMs - Date.now()));
    // Detached until the starter's reader joins (right after this returns); if it never does, the cap applies.
    this.#detached();
    this.#lastSentAt = Date.now();
    this.#keepAlive = setInterval(() => {
      if (Date.now() - this.#lastSentAt >= KEEPALIVE_MS) this.#broadcast(encoder.encode(": keep-alive\n\n"));
    }, KEEPALIVE_MS);
    void this.#pump(body);
  }

  /** Nothing was stored (the upstream refused): only `done` needs settling. */
  abandon(): void {
    this.#ended = true;
    this.#resolveDone();
  }

  /** A reader of every event after `after`: what storage holds, then the unwritten events, then the live tail. */
  read(after: number): ReadableStream<Uint8Array> {
    return createReader(this.#storage, after, {
      pending: () => this.#pending,
      join: (reader) => {
        if (this.#ended) return false;
        this.#readers.add(reader);
        this.#attached();
        return true;
      },
      leave: (reader) => {
        this.#readers.delete(reader);
        if (this.#readers.size === 0 && !this.#ended) this.#detached();
      },
    });
  }

  /** The alarm's check, in case a timer did not fire (the timers are the precise path). */
  checkCaps(now: number): void {
    const { maxDurationMs, maxDetachedMs } = this.state.limits;
    if (now - this.state.startedAt >= maxDurationMs) this.end("max_duration");
    else if (this.#detachedSince !== undefined && now - this.#detachedSince >= maxDetachedMs) this.end("detached");
  }

  /** When the alarm must look next: at the earliest cap, and at least every `heartbeatMs` so the object stays in memory. */
  nextCheck(now: number, heartbeatMs: number): number {
    const { maxDurationMs, maxDetachedMs } = this.state.limits;
    const due = [now + heartbeatMs, this.state.startedAt + maxDurationMs];
    if (this.#detachedSince !== undefined) due.push(this.#detachedSince + maxDetachedMs);
    return Math.max(now, Math.min(...due));
  }

  /**
   * End it: the upstream request is aborted, the readers get the ending (a chunk with finish_reason "cancelled" and
   * the reason, then [DONE]) and their streams close. Does nothing once it has ended.
   */
  end(reason: EndReason): void {
    if (this.#ended || !this.#streaming) return;
    this.#streaming = false;
    this.#abort.abort();
    this.#upstream?.cancel().catch(() => undefined);
    const fallback = { id: `gen-${this.state.id}`, created: Math.floor(this.state.startedAt / 1000), model: this.state.model };
    for (const data of endingData(reason, this.#lastChunk, fallback)) this.#append(data, "message", true);
    this.#finish(reason);
  }

  async #pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const upstream = (this.#upstream = body.getReader());
    const decoder = new TextDecoder();
    const parser = createSSEParser({
      onEvent: (event) => this.#onEvent(event.data, event.event),
      onComment: (text) => this.#broadcast(encoder.encode(`:${text === "" ? "" : ` ${text}`}\n\n`)),
    });
    try {
      while (this.#streaming) {
        const { done, value } = await upstream.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // A reset connection or an overlong line: the upstream did not finish, which the ending below says.
    }
    this.end("upstream_dropped");
  }

  #onEvent(data: string, type: string): void {
    if (!this.#streaming) return;
    if (data.startsWith("{") && data.includes("chat.completion.chunk")) this.#lastChunk = data;
    if (!this.#append(data, type, false)) return this.end("max_bytes");
    if (data === "[DONE]") {
      this.#streaming = false;
      this.#upstream?.cancel().catch(() => undefined);
      this.#finish("done");
    }
  }

  /** Number, keep and send one event; false (nothing kept) when it would pass the byte cap. */
  #append(data: string, type: string, force: boolean): boolean {
    const id = this.#lastId + 1;
    const text = eventText(id, data, type);
    const bytes = encoder.encode(text);
    if (!force && this.#bytes + bytes.length > this.state.limits.maxBytes) return false;
    this.#lastId = id;
    this.#bytes += bytes.length;
    this.#pending.push({ id, text });
    for (const reader of this.#readers) reader.push(id, bytes);
    this.#lastSentAt = Date.now();
    this.#scheduleFlush();
    return true;
  }

  #broadcast(bytes: Uint8Array): void {
    for (const reader of this.#readers) reader.push(undefined, bytes);
    this.#lastSentAt = Date.now();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#ended) return;
    this.#flushTimer = setTimeout(() => this.#flush(), Math.max(0, this.#lastFlushAt + FLUSH_MS - Date.now()));
  }

  #flush(end?: { reason: GenerationState["reason"]; expiresAt: number }): void {
    if (this.#ended && !end) return;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const pending = this.#pending;
    if (pending.length === 0 && !end) return;
    const batch = pending.length > 0 ? { firstId: pending[0]!.id, lastId: pending.at(-1)!.id, text: pending.map((e) => e.text).join("") } : undefined;
    writeBatch(this.#storage, batch, end);
    this.#pending = [];
    this.#lastFlushAt = Date.now();
  }

  #finish(reason: EndReason | "done"): void {
    this.#ended = true;
    clearTimeout(this.#capTimer);
    clearTimeout(this.#detachedTimer);
    clearTimeout(this.#flushTimer);
    clearInterval(this.#keepAlive);
    this.state.reason = reason;
    // Every reader has had every event (from memory): their streams end now, the last write may wait its turn.
    for (const reader of this.#readers) reader.close();
    this.#readers.clear();
    const write = () => {
      const expiresAt = Date.now() + this.state.limits.retentionMs;
      this.state.expiresAt = expiresAt;
      try {
        this.#flush({ reason, expiresAt });
      } finally {
        this.#onEnd(expiresAt);
        this.#resolveDone();
      }
    };
    const wait = this.#lastFlushAt + FLUSH_MS - Date.now();
    if (wait > 0) this.#flushTimer = setTimeout(write, wait);
    else write();
  }

  #attached(): void {
    clearTimeout(this.#detachedTimer);
    this.#detachedTimer = undefined;
    this.#detachedSince = undefined;
  }

  #detached(): void {
    if (this.#detachedSince !== undefined) return;
    this.#detachedSince = Date.now();
    this.#detachedTimer = setTimeout(() => this.end("detached"), this.state.limits.maxDetachedMs);
  }
}
