import type { ChatStream } from "../client/chat-stream.js";
import type { Client } from "../client/client.js";
import type { RequestOptions } from "../client/options.js";
import type { ChatCompletion } from "../client/types.js";
import { EdgeChatError } from "../errors/base.js";
import { UserAbortError } from "../errors/transport.js";
import type { Infer, StandardSchema } from "../schema/standard.js";
import { isRefusal, type ObjectParams, objectRequests, rememberRefusal } from "./mode.js";
import { parseObject } from "./parse.js";
import { PartialJSON } from "./partial-json.js";

/** A value as it streams in: any property, item or the end of any string may be still missing. */
export type DeepPartial<T> = T extends readonly (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A JSON value streaming in, from `streamObject`. It behaves as the `ChatStream` under it does:
 *
 * - Read it once: `for await (const partial of stream)`; a second iteration throws an `EdgeChatError`.
 * - `value` and `completion` can be awaited with or without iterating: unless a loop has begun by the next
 *   microtask, asking for either reads the stream.
 * - `break` (or a `throw`) out of the loop cancels the request, as `abort()` does. A failure ends the loop and
 *   rejects `value` with the same typed error — a reply that is not a value of the schema too, once it has ended.
 */
export interface ObjectStream<T> extends AsyncIterable<DeepPartial<T>> {
  /**
   * The reply's text parsed (a ```json fence stripped) and validated by the schema; an `ObjectValidationError`
   * (a `ValidationError` naming the path, with the reply's `text`) when it is not a value of the schema.
   */
  readonly value: Promise<T>;
  /** The whole completion (usage, finish reason): the `ChatStream`'s `finalChatCompletion()`. */
  readonly completion: Promise<ChatCompletion>;
  /** The reply's text so far. */
  readonly text: string;
  /** Stop the request; iteration and `value` end with a `UserAbortError`. A no-op once the reply has ended. */
  abort(reason?: unknown): void;
  /**
   * The value so far after each text delta that changed it: not validated, and live — the same object, completed in
   * place as the text arrives, never copied (copy what you keep, `structuredClone`). Nothing before the value begins.
   */
  [Symbol.asyncIterator](): AsyncIterator<DeepPartial<T>>;
}

/**
 * Stream a JSON value of `params.schema` (openai-node's `stream` with a `response_format`, and its partial values).
 * The request is on its way when this returns. `mode` "auto" (the default) asks with `json_schema`; a server that
 * refuses that before any text (a 400 or 422 that is not a context overflow) is asked once more with `json_object`
 * and the schema in the system message, and from then on this client asks it with `json_object` at once.
 */
export function streamObject<S extends StandardSchema>(client: Client, params: ObjectParams<S>, options?: RequestOptions): ObjectStream<Infer<S>> {
  const { schema, first, fallback } = objectRequests(client, params);
  const create = (request: typeof first) => client.chat.completions.create({ ...request, stream: true }, options);
  const retry = fallback
    ? () => {
        const stream = create(fallback);
        stream.response.then(() => rememberRefusal(client), () => {});
        return stream;
      }
    : undefined;
  return new ObjectStreamImpl(create(first), retry, (text, json) => parseObject(schema, text, json));
}

class ObjectStreamImpl<T> implements ObjectStream<T> {
  readonly #json = new PartialJSON();
  readonly #parse: (text: string, json: PartialJSON) => Promise<T>;
  readonly #value = deferred<T>();
  readonly #completion = deferred<ChatCompletion>();
  #stream: ChatStream;
  #retry: (() => ChatStream) | undefined;
  #consumed = false;

  constructor(stream: ChatStream, retry: (() => ChatStream) | undefined, parse: (text: string, json: PartialJSON) => Promise<T>) {
    this.#stream = stream;
    this.#retry = retry;
    this.#parse = parse;
  }

  get value(): Promise<T> {
    this.#readSoon();
    return this.#value.promise;
  }

  get completion(): Promise<ChatCompletion> {
    this.#readSoon();
    return this.#completion.promise;
  }

  get text(): string {
    return this.#stream.currentText;
  }

  abort(reason?: unknown): void {
    this.#retry = undefined;
    this.#stream.abort(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<DeepPartial<T>> {
    if (this.#consumed) throw new EdgeChatError("This ObjectStream has already been iterated: read it once, or await value");
    this.#consumed = true;
    return this.#run();
  }

  /** As `finalChatCompletion()` does: read the stream unless a loop has begun by the next microtask. */
  #readSoon(): void {
    queueMicrotask(async () => {
      if (this.#consumed) return;
      try {
        for await (const _ of this);
      } catch {
        // Reported through the promises.
      }
    });
  }

  async *#run(): AsyncGenerator<DeepPartial<T>, void, undefined> {
    let ended = false;
    const fail = (error: unknown) => {
      ended = true;
      this.#completion.reject(error);
      this.#value.reject(error);
    };
    try {
      for (;;) {
        try {
          for await (const chunk of this.#stream) {
            const delta = chunk.choices[0]?.delta.content;
            if (!delta) continue;
            const changes = this.#json.changes;
            let partial: unknown;
            try {
              partial = this.#json.push(delta);
            } catch {
              // Not JSON, or a special token leaked after it: read on, `value` says which once the reply has ended.
              continue;
            }
            if (this.#json.changes !== changes) yield partial as DeepPartial<T>;
          }
          break;
        } catch (error) {
          // Once, and only before any text: the server refused json_schema; ask with json_object.
          const retry = this.#retry;
          this.#retry = undefined;
          if (!retry || this.text !== "" || !isRefusal(error)) throw error;
          this.#stream = retry();
        }
      }
      ended = true;
      this.#completion.resolve(await this.#stream.finalChatCompletion());
      this.#value.resolve(await this.#parse(this.text, this.#json));
    } catch (error) {
      fail(error);
      throw error;
    } finally {
      // Left early (break, a throw in the loop): the ChatStream under it was cancelled, and says with what.
      if (!ended) this.#stream.finalChatCompletion().then(() => fail(new UserAbortError()), fail);
    }
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
  // Marked handled: a caller who never asks for it must not get an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
