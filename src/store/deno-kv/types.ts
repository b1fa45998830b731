// The part of Deno KV the store uses, written out so that it compiles without Deno's types; a `Deno.Kv`
// (from `Deno.openKv()`, local or Deno Deploy) fits them.

export type KvKeyPart = Uint8Array | string | number | bigint | boolean | symbol;
export type KvKey = readonly KvKeyPart[];

export interface KvEntry<T> {
  key: KvKey;
  value: T;
  versionstamp: string;
}

export type KvEntryMaybe<T> = KvEntry<T> | { key: KvKey; value: null; versionstamp: null };

/** Passes when the key's versionstamp is still this one (`null`: the key must not exist). */
export interface KvCheck {
  key: KvKey;
  versionstamp: string | null;
}

export interface AtomicOperationLike {
  check(...checks: KvCheck[]): this;
  /** `expireIn` (ms): Deno KV may delete the key once that long has passed (no sooner). */
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): this;
  delete(key: KvKey): this;
  commit(): Promise<{ ok: true; versionstamp: string } | { ok: false }>;
}

export type KvListSelector = { prefix: KvKey } | { prefix: KvKey; start: KvKey } | { prefix: KvKey; end: KvKey } | { start: KvKey; end: KvKey };

export interface DenoKvLike {
  get<T = unknown>(key: KvKey): Promise<KvEntryMaybe<T>>;
  /** At most 10 keys per call. */
  getMany(keys: readonly KvKey[]): Promise<KvEntryMaybe<unknown>[]>;
  list<T = unknown>(selector: KvListSelector, options?: { limit?: number; reverse?: boolean; batchSize?: number }): AsyncIterable<KvEntry<T>>;
  atomic(): AtomicOperationLike;
}
