import { EdgeChatError } from "../errors/base.js";
import { APIError } from "../errors/api.js";
import { createAPIError } from "../errors/from-response.js";
import { StreamInterruptedError } from "../errors/transport.js";
import { createSSEParser } from "../sse/parser.js";
import type { ServerSentEvent } from "../sse/types.js";
import { CompletionAccumulator } from "./accumulate.js";
import type { CallAbort } from "./attempt.js";
import { parseJSONOrText } from "./read-text.js";
import { isErrorPayload, parseReply, redactJSON } from "./reply.js";
import { bodyReadError, type Sent, transportError } from "./request.js";
import { chunkSchema, validate } from "./schemas.js";
import type { ChatCompletion, ChatCompletionChunk } from "./types.js";

/** @internal What `chat.completions.create` hands a stream. */
export interface StreamSource {
  sent: Promise<Sent>;
  call: CallAbort;
  idleTimeout: number;
  apiKey: string | undefined;
}

const noop = () => {};

/**
 * A streamed chat completion. Iterate it once (`for await`), or read `textStream`, or pipe
 * `toReadableStream()`; `finalCompletion()` gives the whole reply either way. Breaking out of the
 * loop or calling `abort()` cancels the request.
 */
export class ChatStream implements AsyncIterable<ChatCompletionChunk> {
  readonly #source: StreamSource;
  readonly #accumulator = new CompletionAccumulator();
  readonly #final: Promise<ChatCompletion>;
  #resolve!: (completion: ChatCompletion) => void;
  #reject!: (error: unknown) => void;
  #consumed = false;
  #onComment: ((text: string) => void) | undefined;

  /** The HTTP response, once its headers have arrived (after any retries). */
  readonly response: Promise<Response>;

  /** @internal Use `client.chat.completions.create({ ..., stream: true })`. */
  constructor(source: StreamSource) {
    this.#source = source;
    this.#final = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Marked handled: a caller who never asks for these must not get an unhandled rejection.
    this.#final.catch(noop);
    this.response = source.sent.then((s) => s.response);
    this.response.catch(noop);
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.#consumed) throw new EdgeChatError("This ChatStream has already been consumed: iterate it once, or use finalCompletion()");
    this.#consumed = true;
    return this.#run();
  }

  /** Content deltas of the first choice only, skipping empty ones. */
  get textStream(): AsyncIterable<string> {
    const chunks = this;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of chunks) {
          const text = chunk.choices[0]?.delta.content;
          if (text) yield text;
        }
      },
    };
  }

  /** The text received so far (choice 0): useful after an abort or a dropped connection. */
  get currentText(): string {
    return this.#accumulator.content;
  }

  /** The whole reply: content, tool calls, finish reason and usage. Consumes the stream if nothing else does. */
  finalCompletion(): Promise<ChatCompletion> {
    if (!this.#consumed) void this.#drain();
    return this.#final;
  }

  /** Stop the request. Iteration ends with a `UserAbortError`; an abort after the reply finished is a no-op. */
  abort(reason?: unknown): void {
    this.#source.call.abort(reason);
  }

  /**
   * The stream re-encoded as SSE bytes (`data: {chunk}` … `data: [DONE]`), e.g. to return from a Worker
   * as `new Response(stream.toReadableStream(), { headers: { "content-type": "text/event-stream" } })`.
   * A server error mid-stream is forwarded as an `event: error` so the client on the other end gets it typed.
   * Comments from upstream are forwarded, and a keep-alive comment is sent after `keepAliveMs` of silence:
   * a relay only notices that its client has gone when it writes (workerd), and proxies cut idle streams.
   * Cancelling the returned stream aborts the request at once.
   */
  toReadableStream(options: { keepAliveMs?: number } = {}): ReadableStream<Uint8Array> {
    const iterator = this[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    const keepAliveMs = options.keepAliveMs ?? 15_000;
    let timer: ReturnType<typeof setInterval> | undefined;
    let lastWrite = Date.now();
    let write!: (text: string) => void;
    const stop = () => {
      clearInterval(timer);
      this.#onComment = undefined;
    };
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        write = (text) => {
          lastWrite = Date.now();
          controller.enqueue(encoder.encode(text));
        };
        this.#onComment = (text) => write(`:${text}\n\n`);
        if (keepAliveMs > 0 && Number.isFinite(keepAliveMs)) {
          timer = setInterval(() => {
            if (Date.now() - lastWrite >= keepAliveMs) write(": keep-alive\n\n");
          }, Math.max(1, Math.floor(keepAliveMs / 2)));
        }
      },
      pull: async (controller) => {
        let last: string;
        try {
          const { done, value } = await iterator.next();
          if (!done) return write(`data: ${JSON.stringify(value)}\n\n`);
          last = "data: [DONE]\n\n";
        } catch (error) {
          if (!(error instanceof APIError)) {
            stop();
            throw error;
          }
          const payload = { error: { message: error.message, type: error.type, code: error.status ?? error.code } };
          last = `event: error\ndata: ${JSON.stringify(payload)}\n\n`;
        }
        stop();
        write(last);
        controller.close();
      },
      cancel: async (reason) => {
        stop();
        // Abort first: return() would queue behind a read that waits for the next event.
        this.abort(reason);
        await iterator.return?.();
      },
    });
  }

  async #drain(): Promise<void> {
    try {
      for await (const _ of this);
    } catch {
      // Reported through #final.
    }
  }

  async *#run(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const { call, idleTimeout, apiKey } = this.#source;
    const accumulator = this.#accumulator;
    let attempt: Sent["attempt"] | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let ended = false;
    let bodyHandled = false; // read to its end, or handed to finishBody: nothing to cancel
    try {
      const sent = await this.#source.sent;
      attempt = sent.attempt;
      const body = sent.response.body;
      if (!body) throw new StreamInterruptedError("The response had no body");
      reader = body.getReader();
      attempt.watchIdle(idleTimeout);

      let queue: ChatCompletionChunk[] = [];
      let failure: EdgeChatError | undefined;
      let done = false;
      const onEvent = (event: ServerSentEvent) => {
        if (done || failure) return;
        try {
          const chunk = toChunk(event, apiKey);
          if (chunk === undefined) done = true;
          else {
            accumulator.add(chunk);
            queue.push(chunk);
          }
        } catch (error) {
          failure = error as EdgeChatError;
        }
      };
      const parser = createSSEParser({ onEvent, onComment: (text) => this.#onComment?.(text) });
      const decoder = new TextDecoder();

      for (;;) {
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch (thrown) {
          throw bodyReadError(thrown, attempt.signal);
        }
        if (attempt.signal.aborted) throw attempt.signal.reason;
        parser.feed(read.done ? decoder.decode() : decoder.decode(read.value, { stream: true }));
        if (queue.length > 0) {
          attempt.markEvent();
          const chunks = queue;
          queue = [];
          for (let i = 0; i < chunks.length; i++) yield chunks[i]!;
        }
        if (failure) throw failure;
        if (done || read.done) {
          bodyHandled = true;
          if (!done && !accumulator.finished) throw new StreamInterruptedError();
          // The body's end is usually a moment behind [DONE]: wait for it briefly, so the connection is free
          // for the next request; finishBody reads the rest in the background if it is slower.
          if (!read.done) await finishBody(reader, 100);
          break;
        }
      }
      ended = true;
      this.#resolve(accumulator.result());
    } catch (error) {
      const typed = attempt ? transportError(error, attempt.signal) : error;
      this.#reject(typed);
      throw typed;
    } finally {
      if (!ended) {
        // Left early (break, abort, error): make sure the connection is closed and nothing keeps running.
        call.abort();
        this.#reject(attempt?.signal.reason ?? call.reason);
      }
      if (reader && !bodyHandled) void reader.cancel().catch(noop);
      attempt?.dispose();
      call.dispose();
    }
  }
}

/**
 * Take over a body whose reply is complete and read what is left of it, so the connection can be reused
 * (cancelling makes undici drop the socket: a new TCP and TLS handshake for the next request). Bounded: past
 * 64 KiB or 2 s it cancels, losing only the connection. Resolves when the body ends or after `waitMs`, whichever
 * is first; the reading goes on in the background.
 */
function finishBody(reader: ReadableStreamDefaultReader<Uint8Array>, waitMs: number): Promise<void> {
  const giveUp = setTimeout(() => void reader.cancel().catch(noop), 2_000);
  const ended = (async () => {
    try {
      for (let seen = 0; seen <= 65_536; ) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value.byteLength;
      }
      await reader.cancel();
    } catch {
      // The connection went away meanwhile: nothing to reuse, nothing lost.
    } finally {
      clearTimeout(giveUp);
    }
  })();
  let wait: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (wait = setTimeout(resolve, waitMs)));
  return Promise.race([ended, late]).finally(() => clearTimeout(wait));
}

/** One SSE event → a validated chunk; `undefined` for the `[DONE]` sentinel; typed errors for error payloads. */
function toChunk(event: ServerSentEvent, apiKey: string | undefined): ChatCompletionChunk | undefined {
  const data = event.data;
  if (data === "[DONE]") return undefined;
  if (event.event === "error") throw streamError(parseJSONOrText(data), apiKey);
  const json = parseReply(data, "stream chunk", apiKey);
  if (isErrorPayload(json)) throw streamError(json, apiKey);
  return validate<ChatCompletionChunk>(chunkSchema, json, "stream chunk");
}

/** The error a stream event carries; its `code`, when an HTTP status, is the error's status. */
function streamError(json: unknown, apiKey: string | undefined): APIError {
  const body = redactJSON(json, apiKey);
  const inner = typeof body === "object" && body !== null ? ((body as { error?: unknown }).error ?? body) : body;
  const code = typeof inner === "object" && inner !== null ? (inner as { code?: unknown }).code : undefined;
  const status = typeof code === "number" && code >= 400 && code < 600 ? code : undefined;
  return createAPIError(status, body, undefined);
}
