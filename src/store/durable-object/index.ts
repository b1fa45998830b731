// edgechat/durable-object: conversations in a Cloudflare Durable Object's SQLite storage, one object per user.
export { createDurableObjectStore } from "./store.js";
export { ConversationStoreObject } from "./object.js";
export { connectDurableObjectStore, type ConversationStoreStub } from "./rpc.js";
export type { StoreErrorData, StoreReply } from "./reply.js";
export type { DurableObjectStateLike, DurableObjectStorageLike, LockingStore, SqlCursorLike, SqlValue } from "./types.js";
