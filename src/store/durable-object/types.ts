// The few workerd types the store uses, written out so that neither @cloudflare/workers-types nor the Workers
// globals are needed to compile it. A Durable Object's `ctx.storage` (SQLite-backed class) fits them.
import type { ConversationStore } from "../types.js";

/** What SQLite hands back: BLOBs arrive as ArrayBuffer. */
export type SqlValue = string | number | null | ArrayBuffer;

export interface SqlCursorLike {
  toArray(): Record<string, SqlValue>[];
  /** Exactly one row, else throws. */
  one(): Record<string, SqlValue>;
}

/** `ctx.storage` of a Durable Object class declared under `new_sqlite_classes`. */
export interface DurableObjectStorageLike {
  readonly sql: { exec(query: string, ...bindings: unknown[]): SqlCursorLike };
  /** Runs `fn` in a transaction: everything it wrote is rolled back if it throws. */
  transactionSync<T>(fn: () => T): T;
}

/** What a Durable Object's constructor receives first (`ctx`, a `DurableObjectState`). */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike;
}

/** The store a Durable Object holds: with the writer lock and the conditional interrupt, which it always has. */
export type LockingStore = ConversationStore & Required<Pick<ConversationStore, "lockConversation" | "interruptStale">>;
