import type { AssistantMessage, ReplyStatus } from "../messages/types.js";

/**
 * Where a reply is: `queued` (its state when made: not begun — behind another reply of the same Conversation, or
 * about to take the conversation's lock); `waiting` for that lock, which another tab, client or process holds (its
 * turn is running); `streaming` (its turn has begun: the history is up to date, the user message is in it, the
 * request goes out); then how it ended.
 */
export type ReplyState = "queued" | "waiting" | ReplyStatus;

const noop = () => {};

/**
 * The reply to one `send`: async-iterable over text deltas (once), and `done` — the final assistant
 * message, or a rejection with the typed error that ended it. The reply runs whether or not anyone iterates.
 */
export class Reply implements AsyncIterable<string> {
  /** The final assistant message when the reply completes; rejects with the typed error otherwise. */
  readonly done: Promise<AssistantMessage>;
  readonly #abort: () => void;
  readonly #onState: (reply: Reply) => void;
  #state: ReplyState = "queued";
  #queue: string[] = [];
  #ended = false;
  #error: unknown;
  #failed = false;
  #wake: (() => void) | undefined;
  #iterated = false;
  #resolve!: (m: AssistantMessage) => void;
  #reject!: (e: unknown) => void;

  /** @internal */
  constructor(abort: () => void, onState: (reply: Reply) => void = noop) {
    this.#abort = abort;
    this.#onState = onState;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(noop);
  }

  /** Stop this reply; its message ends `interrupted` with the text so far. A reply not yet begun never starts. */
  abort(): void {
    this.#abort();
  }

  get state(): ReplyState {
    return this.#state;
  }

  /** @internal */
  setState(state: ReplyState): void {
    if (this.#ended || this.#state === state) return;
    this.#state = state;
    this.#onState(this);
  }

  /** @internal */
  push(delta: string): void {
    this.#queue.push(delta);
    this.#wake?.();
  }

  /** @internal */
  finish(message: AssistantMessage): void {
    this.setState(message.status);
    this.#ended = true;
    this.#resolve(message);
    this.#wake?.();
  }

  /** @internal */
  fail(error: unknown, state: ReplyState = "error"): void {
    this.setState(state);
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
