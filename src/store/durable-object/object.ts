import { answerLockCall } from "./rpc-lock.js";
import { answerStoreCall } from "./rpc.js";
import type { StoreReply } from "./reply.js";
import { createDurableObjectStore } from "./store.js";
import type { DurableObjectStateLike, LockingStore } from "./types.js";

/**
 * A Durable Object class that holds a `ConversationStore` and serves it over RPC. Pass it workerd's
 * `DurableObject` (RPC needs a class that extends it; edgechat does not import `cloudflare:workers` itself):
 *
 * ```ts
 * import { DurableObject } from "cloudflare:workers";
 * export class UserConversations extends ConversationStoreObject(DurableObject) {}
 * ```
 *
 * Declare the class under `new_sqlite_classes`, use one object per user (`idFromName(userId)`), and reach it with
 * `connectDurableObjectStore(stub)`. The object's own methods can use the store as `this.conversations`.
 */
// A mixin: TypeScript wants its constructor to take `...args: any[]`.
export function ConversationStoreObject<Base extends abstract new (...args: any[]) => object>(base: Base) {
  abstract class StoreObject extends base {
    /** This object's store (in its SQLite storage). */
    readonly conversations: LockingStore;

    constructor(...args: any[]) {
      super(...args);
      this.conversations = createDurableObjectStore((args[0] as DurableObjectStateLike).storage);
    }

    /** The RPC method `connectDurableObjectStore` calls: one store method, its outcome as a plain reply. */
    conversationStore(method: string, args: unknown[]): Promise<StoreReply> {
      return answerStoreCall(this.conversations, method, args);
    }

    /** Its lock: held here while the caller's `granted` callback runs `fn` over there. */
    conversationLock(id: string, granted: () => Promise<void>, waiting: () => void): Promise<StoreReply> {
      return answerLockCall(this.conversations, id, granted, waiting);
    }
  }
  return StoreObject;
}
