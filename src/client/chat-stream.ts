import { EdgeChatError } from "../errors/base.js";
import type { APIError } from "../errors/api.js";
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
 * A streamed chat completion, from `client.chat.completions.create({ ..., stream: true })` or `resume(url)`. The
 * request is on its way when you get it; its body is read as you read the stream.
 *
 * - Read it once: `for await (const chunk of stream)`, or `textStream`, or `toSSEStream(stream)`. A second
 *   iteration throws an `EdgeChatError`.
 * - `finalChatCompletion()` gives the whole reply, with or without iterating: it reads the stream itself if no loop
 *   has begun by the next microtask (so a loop begun in the same tick still gets every chunk).
 * - `break` (or a `throw`) out of the loop cancels the request, as `abort()` does: the loop is the stream's only
 *   reader. (A `Conversation`'s `Reply` differs here: see `Reply`.)
 * - A failure ends the loop and rejects `finalChatCompletion()` with the same typed error.
 *
 * From a server that relays resumable generations (its answer names one in an `Edgechat-Resume` header, and its
 * events carry ids), a lost connection — dropped, ended before the last event, or silent past `idleTimeout` or
 * `timeout` — is picked up by the stream itself: it asks for the events after the last one it read
 * (`Last-Event-ID`), as a retry (`maxRetries`, backoff, `onRetry`; the count starts again whenever an event
 * arrives), and goes on as one stream, nothing repeated or missing. A generation the server no longer has is a
 * `NotFoundError`. Any other server's stream behaves as before: a lost connection is a `StreamInterruptedError`.
 */
export interface ChatStream extends AsyncIterable<ChatCompletionChunk> {
  /** The HTTP response, once its headers have arrived (after any retries). */
  readonly response: Promise<Response>;
  /** Content deltas of the first choice only, skipping empty ones. Iterating it is the stream's one iteration. */
  readonly textStream: AsyncIterable<string>;
  /** The text received so far (choice 0): useful after an abort or a dropped connection. */
  readonly currentText: string;
  /**
   * Where this stream can be picked up again, when the server relays a resumable generation (it answered with an
   * `Edgechat-Resume` header): its URL, absolute, and the id of the last event whose chunk this stream has yielded.
   * Pass both to `client.chat.completions.resume` (after a reload, say). Undefined from an ordinary server.
   * A dropped connection is resumed by the stream itself; this is for a reader that is gone.
   */
  readonly resumable: ResumePoint | undefined;
  /**
   * The whole reply: content, tool calls, finish reason and usage (openai-node's name for the same promise). Rejects
   * with the error that ended the stream. Reads the stream itself unless a loop has begun by the next microtask.
   */
  finalChatCompletion(): Promise<ChatCompletion>;
  /**
   * Stop the request. Iteration ends with a `UserAbortError`; an abort after the reply finished is a no-op. A
   * resumable generation is cancelled too (a `DELETE` of its URL, sent `keepalive`), as it is when the call's signal
   * aborts or a loop breaks: a dropped connection only detaches, and the generation would go on without a reader.
   */
  abort(reason?: unknown): void;
  /** The stream's one iteration; a second throws an `EdgeChatError`. */
  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk>;
}

/** The `ChatStream` that `create` and `resume` return. Not exported from the package: its constructor is ours. */
export class ChatStreamImpl implements ChatStream {
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

  readonly response: Promise<Response>;

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

  /** For `toSSEStream`: hear the comments (keep-alives) the upstream sends, while it relays this stream. */
  static onComment(stream: ChatStream, listener: ((text: string) => void) | undefined): void {
    if (#onComment in stream) stream.#onComment = listener;
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.#consumed) throw new EdgeChatError("This ChatStream has already been iterated: read it once, or await finalChatCompletion()");
    this.#consumed = true;
    return this.#run();
  }

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

  get currentText(): string {
    return this.#accumulator.content;
  }

  get resumable(): ResumePoint | undefined {
    return this.#url ? { url: this.#url, lastEventId: this.#lastId } : undefined;
  }

  finalChatCompletion(): Promise<ChatCompletion> {
    queueMicrotask(() => this.#consumed || void this.#drain());
    return this.#final;
  }

  abort(reason?: unknown): void {
    this.#source.call.abort(reason);
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
          let failure: { error: unknown } | undefined;
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
              failure = { error };
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
            if (failure) throw failure.error;
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
