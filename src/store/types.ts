import type { Calibration } from "../messages/calibration.js";
import type { ConversationJSON } from "../messages/serialize.js";
import type { Forks } from "../messages/tree.js";
import type { Message } from "../messages/types.js";

/** A conversation's summary, as a list shows it: no messages are read to build it. */
export interface ConversationMeta {
  id: string;
  title: string;
  model: string;
  system?: string;
  createdAt: number;
  /** Last change to the conversation or any of its messages. */
  updatedAt: number;
  /** Every stored message, in every branch. */
  messageCount: number;
  /** The last message of the active path (what `loadMessages` pages); absent while there are no messages. */
  activeLeaf?: string;
  /** The messages that have versions, by parent (see `Forks`); absent until an edit or a regeneration makes one. */
  forks?: Forks;
  /**
   * What the conversation has cost: every reply's `usage` added up when it is stored, including replies later
   * replaced or removed (they were paid for).
   */
  usage: { promptTokens: number; completionTokens: number; cost: number };
  calibration?: Calibration;
}

export interface LockOptions {
  /** Stop waiting: the call rejects with the signal's reason and `fn` never runs. */
  signal?: AbortSignal;
  /** Called once, when the lock is held elsewhere and this call starts to wait for it. */
  onWait?: () => void;
}

export type StoreChangeKind = "create" | "import" | "rename" | "calibration" | "delete" | "append" | "update" | "remove" | "switch";

/** A change to a stored conversation: its id and the kind of change (read the store for the rest). */
export interface StoreChange {
  id: string;
  kind: StoreChangeKind;
}

export interface NewConversation {
  id?: string;
  title?: string;
  model: string;
  system?: string;
}

export interface ListOptions {
  /**
   * Page size: a whole number ≥ 0, or Infinity; default 50. 0 gives an empty page whose `next` is present when
   * there are conversations past the cursor and leads to them. Negative, fractional or NaN: `RangeError`.
   */
  limit?: number;
  /**
   * The `next` cursor of the previous page. A position, not a snapshot: it still works after the conversation it
   * names changed or was deleted. A value the store could not have produced (not a string, tampered with, another
   * kind of store's) is a `RangeError`, and nothing is read.
   */
  cursor?: string;
}

export interface ConversationPage {
  /** Newest first (by `updatedAt`). */
  conversations: ConversationMeta[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next?: string;
}

export interface LoadOptions {
  /**
   * Page size: a whole number ≥ 0, or Infinity; default 50. 0 gives an empty page whose `before` is present when
   * there are messages older than the cursor and leads to them (the page a positive `limit` would have started
   * with). Negative, fractional or NaN: `RangeError`, and nothing is read.
   */
  limit?: number;
  /**
   * The `before` cursor of the previous page: load the active path's messages above it. Cursors are positions, a
   * whole number ≥ 0, and stay valid when messages are removed. Anything else (NaN, -1, 2.5, Infinity, a string) is not a cursor
   * a store could have produced: `RangeError`, and nothing is read.
   */
  before?: number;
}

export interface MessagePage {
  /** Oldest first: the active path's newest `limit` messages before the cursor. */
  messages: Message[];
  /** Pass as `before` to load the page of older messages; absent when there are none. */
  before?: number;
}

/**
 * Where conversations live. Every method is async and atomic: a failed call changes nothing, and
 * throws a `StorageError` (`StorageQuotaError` when the disk is full; `ConversationNotFoundError` when a method
 * other than `get` and `delete` is given an id the store does not hold), a `ValidationError` for an invalid import
 * document, or a `RangeError` for an invalid `limit` or paging cursor (a mistake in the calling code: retrying
 * cannot help).
 */
export interface ConversationStore {
  list(options?: ListOptions): Promise<ConversationPage>;
  get(id: string): Promise<ConversationMeta | undefined>;
  create(conversation: NewConversation): Promise<ConversationMeta>;
  rename(id: string, title: string): Promise<void>;
  /** Remember per-conversation state such as the token-counter calibration. */
  setCalibration(id: string, calibration: Calibration): Promise<void>;
  /**
   * Deletes the conversation, its messages and any images only it used. Idempotent: an id the store does not
   * hold (never created, or deleted already, e.g. by another tab) is no error and changes nothing, so a delete
   * whose answer was lost can simply be retried.
   */
  delete(id: string): Promise<void>;
  /** A page of the active path: the messages from the first one to the active leaf, newest page first. */
  loadMessages(id: string, options?: LoadOptions): Promise<MessagePage>;
  /**
   * Stores `message` after its parent (`parentId`: absent means after the active leaf, `null` a new first message),
   * which must be stored (else `StorageError`). A parent's second child makes both versions (`forks`). The message
   * becomes the active leaf. Atomic, one write of the message and the meta: concurrent appends never collide.
   */
  appendMessage(id: string, message: Message): Promise<void>;
  /**
   * Replaces the message with the same id (streaming text, final status, changed images); its place in the tree
   * stays (`parentId` is not changed). Image bytes the conversation's messages no longer use are freed, unless
   * another message (of any conversation) uses them.
   */
  updateMessage(id: string, message: Message): Promise<void>;
  /**
   * Removes the messages with these ids and every message under them, in every branch (ids not stored are skipped),
   * in one atomic step, and frees the image bytes nothing else uses. If the active leaf goes, the nearest message
   * left above it leads the way: the newest leaf under it becomes active.
   */
  removeMessages(id: string, messageIds: readonly string[]): Promise<void>;
  /**
   * Makes the newest leaf under `messageId` (the message itself if nothing follows it) the active leaf: a version
   * switch. Writes the meta only; `StorageError` for a message not stored. Returns the new active leaf's id.
   */
  switchTo(id: string, messageId: string): Promise<string>;
  export(id: string): Promise<ConversationJSON & { title: string }>;
  /** Validates the document first: a bad one throws `ValidationError` and stores nothing. */
  import(document: unknown): Promise<ConversationMeta>;
  /**
   * Run `fn` holding the conversation's writer lock: exclusive across every tab, client or process that uses the
   * same storage (IndexedDB: Web Locks; Durable Object: the object; Deno KV: a lease in the database; memory: the
   * process). `Conversation` runs each whole turn under it. Optional for stores written elsewhere: without it,
   * turns are serialised only within one `Conversation`.
   */
  lockConversation?<T>(id: string, fn: () => T | PromiseLike<T>, options?: LockOptions): Promise<T>;
  /**
   * Atomically: if `messageId` is a reply still `streaming` and nobody holds the conversation's lock (so nobody can
   * be writing it), store it as `interrupted`, its text kept. Anything else is left as it is: a reply that finished
   * meanwhile stays `complete`. Returns the message as stored after the call, `undefined` if it is not stored.
   */
  interruptStale?(id: string, messageId: string): Promise<Message | undefined>;
  /**
   * Changes to stored conversations, so an open conversation or a list can follow them. IndexedDB reports those of
   * other tabs and store instances; the memory store reports every change. Returns the unsubscribe function.
   */
  onChange?(listener: (change: StoreChange) => void): () => void;
  close?(): void;
}
