// The store over Durable Object RPC: the object answers `conversationStore(method, args)` with a plain reply
// (RPC would turn a thrown error into a bare Error: its class and fields lost), the Worker's side rebuilds errors.
import { ValidationError, type ValidationIssue } from "../../errors/validation.js";
import { ConversationNotFoundError, StorageError, StorageQuotaError } from "../errors.js";
import type { ConversationStore } from "../types.js";

export const STORE_METHODS = [
  "list", "get", "create", "rename", "setCalibration", "delete", "loadMessages",
  "appendMessage", "updateMessage", "removeMessages", "export", "import",
] as const satisfies readonly (keyof ConversationStore)[];

export type StoreMethod = (typeof STORE_METHODS)[number];

export interface StoreErrorData {
  kind: "StorageError" | "StorageQuotaError" | "ConversationNotFoundError" | "ValidationError" | "RangeError";
  message: string;
  id?: string;
  issues?: ValidationIssue[];
}

/** What `conversationStore()` answers. */
export type StoreReply = { ok: true; value: unknown } | { ok: false; error: StoreErrorData };

/**
 * A stub of an object that serves a store: `DurableObjectStub<YourClass>` for a `ConversationStoreObject`. The
 * reply is typed loosely on purpose: workers-types rewrites the return types of RPC methods.
 */
export interface ConversationStoreStub {
  conversationStore(method: string, args: unknown[]): Promise<unknown>;
}

/** Run one call on `store` (inside the Durable Object) and package the outcome for the trip back. */
export async function answerStoreCall(store: ConversationStore, method: string, args: unknown[]): Promise<StoreReply> {
  try {
    if (!(STORE_METHODS as readonly string[]).includes(method)) throw new StorageError(`"${method}" is not a ConversationStore method`);
    return { ok: true, value: await (store[method as StoreMethod] as (...a: unknown[]) => Promise<unknown>)(...args) };
  } catch (error) {
    return { ok: false, error: errorData(error) };
  }
}

function errorData(error: unknown): StoreErrorData {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ValidationError) return { kind: "ValidationError", message, issues: [...error.issues] };
  if (error instanceof ConversationNotFoundError) return { kind: "ConversationNotFoundError", message, id: error.id };
  if (error instanceof StorageQuotaError) return { kind: "StorageQuotaError", message };
  if (error instanceof RangeError) return { kind: "RangeError", message };
  return { kind: "StorageError", message };
}

function rebuild(data: StoreErrorData): Error {
  switch (data.kind) {
    case "ValidationError": {
      const error = new ValidationError("value", data.issues ?? []);
      error.message = data.message;
      return error;
    }
    case "ConversationNotFoundError":
      return new ConversationNotFoundError(data.id ?? "");
    case "StorageQuotaError":
      return new StorageQuotaError();
    case "RangeError":
      return new RangeError(data.message);
    default:
      return new StorageError(data.message);
  }
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
      throw new StorageError(`The Durable Object did not answer ${method}(): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (!reply.ok) throw rebuild(reply.error);
    return reply.value;
  };
  return Object.fromEntries(STORE_METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as ConversationStore;
}
