// edgechat/deno-kv: conversations in Deno KV (Deno, Deno Deploy): the store, its options and two errors of its own
// (a message too big for one commit, a lease lost by a stalled holder), and the structural types of the part of
// `Deno.Kv` it uses, so it compiles without Deno's types.
//
// Deliberately not exported: the key layout, the commit planner and KV's limits as constants (they are in the
// README), the lease helpers behind `lockConversation`, and the reader. The store interface, `Conversation` and
// the other errors come from edgechat.
export { DenoKvLimitError } from "./limits.js";
export { DenoKvLockLostError } from "./lock.js";
export { createDenoKvStore, type DenoKvStoreOptions } from "./store.js";
export type { AtomicOperationLike, DenoKvLike, KvCheck, KvEntry, KvEntryMaybe, KvKey, KvKeyPart, KvListSelector } from "./types.js";
