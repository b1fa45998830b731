import { EdgeChatError } from "../errors/base.js";
import type { AssistantMessage, ReplyStatus } from "../messages/types.js";

/**
 * Where a reply is: `queued` (its state when made: not begun — behind another reply of the same Conversation, or
 * about to take the conversation's lock); `waiting` for that lock, which another tab, client or process holds (its
 * turn is running); `streaming` (its turn has begun: the history is up to date, the user message is in it, the
 * request goes out); then how it ended.
 */
export type ReplyState = "queued" | "waiting" | ReplyStatus;

/**
 * The reply to one `send` (or `regenerate`, `edit`, `continue`): async-iterable over its text deltas, and `done`.
 * It behaves as a `ChatStream` does where they are alike:
 *
 * - Read it once: a second iteration throws an `EdgeChatError`.
 * - Its final value can be awaited with or without iterating, and a failure ends the loop and rejects `done` with
 *   the same typed error; `abort()` ends both with a `UserAbortError`, and is a no-op once the reply has ended.
 *
 * Two differences are deliberate. A reply belongs to its conversation, not to the loop reading it: it runs whether
 * or not anyone iterates, and the conversation's messages, its `onChange` listeners, the store and other tabs follow
 * it to the end. So `break` out of the loop stops your reading only — the reply goes on and is stored complete; call
 * `abort()` (or abort the `signal` of `SendOptions`) to stop it. And for the same reason its final value is a
 * promise that is always there, `done`, where a `ChatStream`, which reads its body only when asked, has a method
 * that reads it, `finalChatCompletion()`.
 */
export interface Reply extends AsyncIterable<string> {
  /** The final assistant message when the reply completes; rejects with the typed error that ended it otherwise. */
  readonly done: Promise<AssistantMessage>;
  readonly state: ReplyState;
  /** Stop this reply; its message ends `interrupted` with the text so far. A reply not yet begun never starts. */
  abort(): void;
  /** The reply's one iteration: its text deltas from where it began (or was re-attached). */
  [Symbol.asyncIterator](): AsyncIterator<string>;
}

const noop = () => {};

/** The `Reply` a Conversation hands out, and the controls the conversation drives it with. */
export class ReplyImpl implements Reply {
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

  constructor(abort: () => void, onState: (reply: Reply) => void = noop) {
    this.#abort = abort;
    this.#onState = onState;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(noop);
  }

  abort(): void {
    this.#abort();
  }

  get state(): ReplyState {
    return this.#state;
  }

  setState(state: ReplyState): void {
    if (this.#ended || this.#state === state) return;
    this.#state = state;
    this.#onState(this);
  }

  push(delta: string): void {
    this.#queue.push(delta);
    this.#wake?.();
  }

  finish(message: AssistantMessage): void {
    this.setState(message.status);
    this.#ended = true;
    this.#resolve(message);
    this.#wake?.();
  }

  fail(error: unknown, state: ReplyState = "error"): void {
    this.setState(state);
    this.#ended = true;
    this.#failed = true;
    this.#error = error;
    this.#reject(error);
    this.#wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.#iterated) throw new EdgeChatError("This Reply has already been iterated: read it once, or await done");
    this.#iterated = true;
    return this.#read();
  }

  async *#read(): AsyncGenerator<string, void, undefined> {
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
