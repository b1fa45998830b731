// The store over Durable Object RPC: the object answers `conversationStore(method, args)` with a plain reply
// (reply.ts), the Worker's side rebuilds errors. The writer lock has its own call (rpc-lock.ts).
import { StorageError } from "../errors.js";
import type { ConversationStore } from "../types.js";
import { answer, replyError, type StoreReply, unreachable } from "./reply.js";
import { lockThroughObject } from "./rpc-lock.js";

export const STORE_METHODS = [
  "list", "get", "create", "rename", "setCalibration", "delete", "loadMessages",
  "appendMessage", "updateMessage", "removeMessages", "switchTo", "export", "import", "interruptStale",
] as const satisfies readonly (keyof ConversationStore)[];

export type StoreMethod = (typeof STORE_METHODS)[number];

/**
 * A stub of an object that serves a store: `DurableObjectStub<YourClass>` for a `ConversationStoreObject`. The
 * replies are typed loosely on purpose: workers-types rewrites the return types of RPC methods.
 */
export interface ConversationStoreStub {
  conversationStore(method: string, args: unknown[]): Promise<unknown>;
  conversationLock(id: string, granted: () => Promise<void>, waiting: () => void): Promise<unknown>;
}

/** Run one call on `store` (inside the Durable Object) and package the outcome for the trip back. */
export function answerStoreCall(store: ConversationStore, method: string, args: unknown[]): Promise<StoreReply> {
  return answer(() => {
    if (!(STORE_METHODS as readonly string[]).includes(method)) throw new StorageError(`"${method}" is not a ConversationStore method`);
    return (store[method as StoreMethod] as (...a: unknown[]) => Promise<unknown>)(...args);
  });
}

/**
 * The store of a Durable Object, from a Worker (or another object): every call is one RPC call, atomic in
 * the object. Errors arrive as edgechat's classes; an object that cannot be reached is a `StorageError`.
 *
 * ```ts
 * const store = connectDurableObjectStore(env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(userId)));
 * ```
 */
export function connectDurableObjectStore(stub: ConversationStoreStub): ConversationStore {
  const call = async (method: StoreMethod, args: unknown[]) => {
    let reply: StoreReply;
    try {
      reply = (await stub.conversationStore(method, args)) as StoreReply;
    } catch (error) {
      throw unreachable(method, error);
    }
    if (!reply.ok) throw replyError(reply.error);
    return reply.value;
  };
  const store = Object.fromEntries(STORE_METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)]));
  const lockConversation: ConversationStore["lockConversation"] = (id, fn, options) => lockThroughObject(stub, id, fn, options);
  return { ...store, lockConversation } as unknown as ConversationStore;
}
