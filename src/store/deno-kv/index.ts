// edgechat/deno-kv: conversations in Deno KV (Deno, Deno Deploy).
export { DenoKvLimitError } from "./limits.js";
export { DenoKvLockLostError } from "./lock.js";
export { createDenoKvStore, type DenoKvStoreOptions } from "./store.js";
export type { AtomicOperationLike, DenoKvLike, KvCheck, KvEntry, KvEntryMaybe, KvKey, KvKeyPart, KvListSelector } from "./types.js";
