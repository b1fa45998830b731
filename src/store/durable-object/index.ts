// edgechat/durable-object: conversations in a Cloudflare Durable Object's SQLite storage, one object per user.
export { createDurableObjectStore } from "./store.js";
export { ConversationStoreObject } from "./object.js";
export { connectDurableObjectStore, type ConversationStoreStub, type StoreErrorData, type StoreReply } from "./rpc.js";
export type { DurableObjectStateLike, DurableObjectStorageLike, SqlCursorLike, SqlValue } from "./types.js";
