import { EdgeChatError } from "../errors/base.js";
import { APIError } from "../errors/api.js";
import { createAPIError } from "../errors/from-response.js";
import { StreamInterruptedError, TimeoutError, UserAbortError } from "../errors/transport.js";
import { createSSEParser } from "../sse/parser.js";
import type { ServerSentEvent } from "../sse/types.js";
import { CompletionAccumulator } from "./accumulate.js";
import type { CallAbort } from "./attempt.js";
import { parseJSONOrText } from "./read-text.js";
import { isErrorPayload, parseReply, redactJSON } from "./reply.js";
import { bodyReadError, type Sent, transportError } from "./request.js";
import { chunkSchema, validate } from "./schemas.js";
import type { ChatCompletion, ChatCompletionChunk, ResumePoint } from "./types.js";

/** @internal What `chat.completions.create` hands a stream. */
export interface StreamSource {
  sent: Promise<Sent>;
  call: CallAbort;
  idleTimeout: number;
  apiKey: string | undefined;
  /** The generation's URL, for a stream opened by `resume`. */
  url?: string | undefined;
  lastEventId?: string | undefined;
  /** GET the generation's events after `lastEventId`: the retry after `error`, counting on from `retry`. */
  resume(url: string, lastEventId: string, retry: number, error: EdgeChatError): Promise<Sent>;
  /** DELETE the generation, not waiting for the answer. */
  cancel(url: string): void;
}

const noop = () => {};

/**
 * A streamed chat completion. Iterate it once (`for await`), or read `textStream`, or pipe
 * `toReadableStream()`; `finalCompletion()` gives the whole reply either way. Breaking out of the
 * loop or calling `abort()` cancels the request.
 *
 * From a server that relays resumable generations (its answer names one in an `Edgechat-Resume` header, and its
 * events carry ids), a lost connection — dropped, ended before the last event, or silent past `idleTimeout` or
 * `timeout` — is picked up by the stream itself: it asks for the events after the last one it read
 * (`Last-Event-ID`), as a retry (`maxRetries`, backoff, `onRetry`; the count starts again whenever an event
 * arrives), and goes on as one stream, nothing repeated or missing. A generation the server no longer has is a
 * `NotFoundError`. Any other server's stream behaves as before: a lost connection is a `StreamInterruptedError`.
 */
export class ChatStream implements AsyncIterable<ChatCompletionChunk> {
  readonly #source: StreamSource;
  readonly #accumulator = new CompletionAccumulator();
  readonly #final: Promise<ChatCompletion>;
  #resolve!: (completion: ChatCompletion) => void;
  #reject!: (error: unknown) => void;
  #consumed = false;
  #onComment: ((text: string) => void) | undefined;
  #url: string | undefined;
  #lastId: string;
  /** Finished, or failed by itself: nothing to cancel. */
  #over = false;

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
    this.response = source.sent.then((s) => this.#track(s.response));
    this.response.catch(noop);
    // A reader leaving only detaches from a relayed generation: stopping it takes a cancel. Registered before the URL
    // is set, so a signal aborted before the call began cancels nothing.
    source.call.onAbort(() => {
      if (this.#url && !this.#over) source.cancel(this.#url);
    });
    this.#url = source.url;
    this.#lastId = source.lastEventId ?? "";
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

  /**
   * Where this stream can be picked up again, when the server relays a resumable generation (it answered with an
   * `Edgechat-Resume` header): its URL, absolute, and the id of the last event whose chunk this stream has yielded.
   * Pass both to `client.chat.completions.resume` (after a reload, say). Undefined from an ordinary server.
   * A dropped connection is resumed by the stream itself; this is for a reader that is gone.
   */
  get resumable(): ResumePoint | undefined {
    return this.#url ? { url: this.#url, lastEventId: this.#lastId } : undefined;
  }

  /** The whole reply: content, tool calls, finish reason and usage. Consumes the stream if nothing else does. */
  finalCompletion(): Promise<ChatCompletion> {
    if (!this.#consumed) void this.#drain();
    return this.#final;
  }

  /**
   * Stop the request. Iteration ends with a `UserAbortError`; an abort after the reply finished is a no-op. A
   * resumable generation is cancelled too (a `DELETE` of its URL, sent `keepalive`), as it is when the call's signal
   * aborts or a loop breaks: a dropped connection only detaches, and the generation would go on without a reader.
   */
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

  /** Take the generation's URL from a response that offers resuming (relative to the request's URL). */
  #track(response: Response): Response {
    const header = response.headers.get("edgechat-resume");
    if (header) {
      try {
        this.#url = new URL(header, response.url || this.#url).href;
      } catch {
        this.#url = header;
      }
    }
    return response;
  }

  async *#run(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const source = this.#source;
    const { call, idleTimeout, apiKey } = source;
    const accumulator = this.#accumulator;
    let attempt: Sent["attempt"] | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let ended = false;
    let bodyHandled = false; // read to its end, or handed to finishBody: nothing to cancel
    try {
      let sent = await source.sent;
      for (;;) {
        attempt = sent.attempt;
        this.#track(sent.response);
        try {
          const body = sent.response.body;
          if (!body) throw new StreamInterruptedError("The response had no body");
          reader = body.getReader();
          bodyHandled = false;
          attempt.watchIdle(idleTimeout);

          // Each chunk with the id of its event: the position moves as each chunk is handed out, not as it is parsed.
          let queue: ChatCompletionChunk[] = [];
          let ids: string[] = [];
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
                ids.push(event.id);
              }
            } catch (error) {
              failure = error as EdgeChatError;
            }
          };
          // A parser per connection: an event cut by a drop is discarded with it (its id never arrived).
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
              // Progress: a later break counts its retries from the start again.
              sent.retry = 0;
              const chunks = queue;
              const chunkIds = ids;
              queue = [];
              ids = [];
              for (let i = 0; i < chunks.length; i++) {
                this.#lastId = chunkIds[i]!;
                yield chunks[i]!;
              }
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
          break;
        } catch (thrown) {
          const error = transportError(thrown, attempt.signal);
          // A generation that can be resumed, its connection lost (dropped, ended early, silent past a timeout, which
          // aborted it): read on after the last event, as the next retry of the retry policy.
          if (!this.#url || !(error instanceof StreamInterruptedError || error instanceof TimeoutError)) throw error;
          attempt.dispose();
          attempt = undefined;
          sent = await source.resume(this.#url, this.#lastId, sent.retry + 1, error);
        }
      }
      ended = this.#over = true;
      this.#resolve(accumulator.result());
    } catch (error) {
      const typed = attempt ? transportError(error, attempt.signal) : error;
      this.#over = !(typed instanceof UserAbortError);
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
