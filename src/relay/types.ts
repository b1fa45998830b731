// The few workerd types the relay uses, written out so that neither @cloudflare/workers-types nor the Workers
// globals are needed to compile it. A SQLite-backed Durable Object's `ctx` and a namespace binding fit them.

export type SqlValue = string | number | null | ArrayBuffer;

export interface SqlCursorLike {
  toArray(): Record<string, SqlValue>[];
}

/** `ctx.storage` of a Durable Object class declared under `new_sqlite_classes`: SQL, transactions, the alarm. */
export interface RelayStorageLike {
  readonly sql: { exec(query: string, ...bindings: unknown[]): SqlCursorLike };
  transactionSync<T>(fn: () => T): T;
  setAlarm(scheduledTime: number): Promise<void>;
  deleteAlarm(): Promise<void>;
  /** Deletes every table and value of the object. */
  deleteAll(): Promise<void>;
}

/** What a Durable Object's constructor receives first (`ctx`, a `DurableObjectState`). */
export interface RelayStateLike {
  readonly storage: RelayStorageLike;
  /** Keeps the object at work until the promise settles: the generation runs there, not inside a request. */
  waitUntil(promise: Promise<unknown>): void;
}

/** A stub of the relay's object: only `fetch` is used (a streamed body crosses it as it is). */
export interface RelayStubLike {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** The namespace binding of the relay's class (`env.GENERATIONS`). */
export interface RelayNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): RelayStubLike;
}
