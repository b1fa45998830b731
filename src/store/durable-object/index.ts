// edgechat/durable-object: conversations in a Cloudflare Durable Object's SQLite storage, one object per user: the
// store (inside the object), the mixin that serves it over RPC, the client that reaches it from a Worker, the shape
// of the RPC replies (the mixin's methods return them), and the structural types of the workerd APIs it uses, so it
// compiles without @cloudflare/workers-types.
//
// Deliberately not exported: the SQL schema and its migrations, the RPC method list and reply checks, the lock's RPC
// protocol, and `cloudflare:workers` itself (you pass your `DurableObject` class in, so edgechat never imports it).
// The store interface, `Conversation` and the errors come from edgechat.
export { createDurableObjectStore } from "./store.js";
export { ConversationStoreObject } from "./object.js";
export { connectDurableObjectStore, type ConversationStoreStub } from "./rpc.js";
export type { StoreErrorData, StoreReply } from "./reply.js";
export type { DurableObjectStateLike, DurableObjectStorageLike, LockingStore, SqlCursorLike, SqlValue } from "./types.js";
