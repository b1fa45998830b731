// The store over Durable Object RPC: the object answers `conversationStore(method, args)` with a plain reply
// (reply.ts), the Worker's side rebuilds errors. The writer lock has its own call (rpc-lock.ts).
import type { ConversationJSON } from "../../messages/serialize.js";
import type { Message } from "../../messages/types.js";
import { StorageError } from "../errors.js";
import type { ConversationMeta, ConversationPage, ConversationStore, MessagePage } from "../types.js";
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

type Check<T> = (value: unknown) => value is T;
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;
const isNothing = (value: unknown): value is void => value === undefined || value === null;
const isMeta = (value: unknown): value is ConversationMeta => isRecord(value) && typeof value.id === "string" && typeof value.updatedAt === "number";
const isMessage = (value: unknown): value is Message => isRecord(value) && typeof value.id === "string" && (value.role === "user" || value.role === "assistant");
const either = <T>(check: Check<T>): Check<T | undefined> => (value): value is T | undefined => value === undefined || check(value);
const isList = (value: unknown): value is ConversationPage => isRecord(value) && Array.isArray(value.conversations) && value.conversations.every(isMeta);
const isPage = (value: unknown): value is MessagePage => isRecord(value) && Array.isArray(value.messages) && value.messages.every(isMessage);
const isDocument = (value: unknown): value is ConversationJSON & { title: string } => isRecord(value) && value.format === "edgechat.conversation" && Array.isArray(value.messages);
const isReply = (value: unknown): value is StoreReply => isRecord(value) && (value.ok === true || (value.ok === false && isRecord(value.error)));

/**
 * The store of a Durable Object, from a Worker (or another object): every call is one RPC call, atomic in
 * the object. Errors arrive as edgechat's classes; an object that cannot be reached is a `StorageError`, and so is
 * a reply that is not what the method returns (another version of the object, say): nothing unchecked gets through.
 *
 * ```ts
 * const store = connectDurableObjectStore(env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(userId)));
 * ```
 */
export function connectDurableObjectStore(stub: ConversationStoreStub): ConversationStore {
  const call = async <T>(method: StoreMethod, args: unknown[], check: Check<T>): Promise<T> => {
    let reply: unknown;
    try {
      reply = await stub.conversationStore(method, args);
    } catch (error) {
      throw unreachable(method, error);
    }
    if (!isReply(reply)) throw new StorageError(`The Durable Object answered ${method}() with something that is not a store reply`);
    if (!reply.ok) throw replyError(reply.error);
    if (!check(reply.value)) throw new StorageError(`The Durable Object answered ${method}() with a value of the wrong shape`);
    return reply.value;
  };
  return {
    list: (...args) => call("list", args, isList),
    get: (...args) => call("get", args, either(isMeta)),
    create: (...args) => call("create", args, isMeta),
    rename: (...args) => call("rename", args, isNothing),
    setCalibration: (...args) => call("setCalibration", args, isNothing),
    delete: (...args) => call("delete", args, isNothing),
    loadMessages: (...args) => call("loadMessages", args, isPage),
    appendMessage: (...args) => call("appendMessage", args, isNothing),
    updateMessage: (...args) => call("updateMessage", args, isNothing),
    removeMessages: (...args) => call("removeMessages", args, isNothing),
    switchTo: (...args) => call("switchTo", args, (value): value is string => typeof value === "string"),
    export: (...args) => call("export", args, isDocument),
    import: (...args) => call("import", args, isMeta),
    interruptStale: (...args) => call("interruptStale", args, either(isMessage)),
    lockConversation: (id, fn, options) => lockThroughObject(stub, id, fn, options),
  };
}
