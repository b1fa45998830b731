import type { Calibration } from "../messages/calibration.js";
import type { Message } from "../messages/types.js";
import { StorageError } from "../store/errors.js";
import type { ConversationStore } from "../store/types.js";

type Op =
  | { kind: "append"; message: Message }
  | { kind: "update"; message: Message }
  | { kind: "calibration"; value: Calibration };

/** How often a streaming reply's partial text is written: a few times a second, not once per token. */
export const STREAM_WRITE_INTERVAL = 250;

/**
 * The ordered write-behind queue between a Conversation and its store. Writes happen in order; a failed
 * write stays at the head of the queue (nothing after it is attempted), so `flush()` can retry it later
 * without losing or reordering anything. Updates to a message not yet written are merged into one.
 */
export class Persistence {
  readonly #store: ConversationStore;
  readonly #id: string;
  readonly #onError: (error: StorageError) => void;
  #queue: Op[] = [];
  #running: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #streaming: Message | undefined;

  constructor(store: ConversationStore, id: string, onError: (error: StorageError) => void) {
    this.#store = store;
    this.#id = id;
    this.#onError = onError;
  }

  append(message: Message): void {
    this.#push({ kind: "append", message });
  }

  /** A final (or one-off) change: written now. */
  update(message: Message): void {
    if (this.#streaming?.id === message.id) this.#clearTimer();
    this.#push({ kind: "update", message });
  }

  /** A streaming change: the newest one is written at most every STREAM_WRITE_INTERVAL ms. */
  updateStreaming(message: Message): void {
    this.#streaming = message;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      const latest = this.#streaming;
      this.#streaming = undefined;
      if (latest) this.#push({ kind: "update", message: latest });
    }, STREAM_WRITE_INTERVAL);
  }

  calibration(value: Calibration): void {
    this.#queue = this.#queue.filter((op, i) => op.kind !== "calibration" || (i === 0 && this.#running !== undefined));
    this.#push({ kind: "calibration", value });
  }

  /** Writes not yet stored (including one that failed). */
  get pending(): number {
    return this.#queue.length + (this.#timer ? 1 : 0);
  }

  /** Write everything queued, including a streaming write not yet due. Rejects with the StorageError that stopped it. */
  async flush(): Promise<void> {
    if (this.#timer) {
      this.#clearTimer();
      const latest = this.#streaming;
      this.#streaming = undefined;
      if (latest) this.#merge({ kind: "update", message: latest });
    }
    while (this.#running) await this.#running.catch(() => {});
    if (this.#queue.length > 0) await this.#drain();
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#streaming = undefined;
  }

  #push(op: Op): void {
    this.#merge(op);
    if (!this.#running) this.#drain().catch(() => {});
  }

  /** Fold an update into a queued, not yet started append or update of the same message. */
  #merge(op: Op): void {
    if (op.kind === "update") {
      for (let i = this.#queue.length - 1; i >= (this.#running ? 1 : 0); i--) {
        const queued = this.#queue[i]!;
        if ((queued.kind === "append" || queued.kind === "update") && queued.message.id === op.message.id) {
          this.#queue[i] = { kind: queued.kind, message: op.message };
          return;
        }
      }
    }
    this.#queue.push(op);
  }

  #drain(): Promise<void> {
    const run = (async () => {
      try {
        while (this.#queue.length > 0) {
          await this.#write(this.#queue[0]!);
          this.#queue.shift();
        }
      } finally {
        this.#running = undefined;
      }
    })();
    this.#running = run;
    run.catch((error: StorageError) => this.#onError(error));
    return run;
  }

  async #write(op: Op): Promise<void> {
    try {
      // A message the Conversation gives no parent is a first message, whatever the store's active leaf.
      if (op.kind === "append") await this.#store.appendMessage(this.#id, { ...op.message, parentId: op.message.parentId ?? null });
      else if (op.kind === "update") await this.#store.updateMessage(this.#id, op.message);
      else await this.#store.setCalibration(this.#id, op.value);
    } catch (error) {
      throw error instanceof StorageError ? error : new StorageError(`Could not save the conversation: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
