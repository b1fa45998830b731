import type { AssistantMessage } from "./types.js";

const noop = () => {};

/**
 * The reply to one `send`: async-iterable over text deltas (once), and `done` — the final assistant
 * message, or a rejection with the typed error that ended it. The reply runs whether or not anyone iterates.
 */
export class Reply implements AsyncIterable<string> {
  /** The final assistant message when the reply completes; rejects with the typed error otherwise. */
  readonly done: Promise<AssistantMessage>;
  readonly #abort: () => void;
  #queue: string[] = [];
  #ended = false;
  #error: unknown;
  #failed = false;
  #wake: (() => void) | undefined;
  #iterated = false;
  #resolve!: (m: AssistantMessage) => void;
  #reject!: (e: unknown) => void;

  /** @internal */
  constructor(abort: () => void) {
    this.#abort = abort;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(noop);
  }

  /** Stop this reply; its message ends `interrupted` with the text so far. */
  abort(): void {
    this.#abort();
  }

  /** @internal */
  push(delta: string): void {
    this.#queue.push(delta);
    this.#wake?.();
  }

  /** @internal */
  finish(message: AssistantMessage): void {
    this.#ended = true;
    this.#resolve(message);
    this.#wake?.();
  }

  /** @internal */
  fail(error: unknown): void {
    this.#ended = true;
    this.#failed = true;
    this.#error = error;
    this.#reject(error);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    if (this.#iterated) throw new TypeError("A Reply can be iterated once");
    this.#iterated = true;
    for (;;) {
      if (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        for (const delta of batch) yield delta;
        continue;
      }
      if (this.#ended) {
        if (this.#failed) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
