// What crosses RPC in place of a thrown error: workerd would turn it into a bare Error, its class and fields lost.
import { ValidationError, type ValidationIssue } from "../../errors/validation.js";
import { ConversationNotFoundError, StorageError, StorageQuotaError } from "../errors.js";

export interface StoreErrorData {
  kind: "StorageError" | "StorageQuotaError" | "ConversationNotFoundError" | "ValidationError" | "RangeError";
  message: string;
  id?: string;
  issues?: ValidationIssue[];
}

/** What the object's RPC methods answer. */
export type StoreReply = { ok: true; value: unknown } | { ok: false; error: StoreErrorData };

/** Run `work` (inside the Durable Object) and package its outcome for the trip back. */
export async function answer(work: () => unknown): Promise<StoreReply> {
  try {
    return { ok: true, value: await work() };
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

/** The error a reply carries, as edgechat's class again (on the Worker's side). */
export function replyError(data: StoreErrorData): Error {
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

/** An object that could not be reached (or failed outside the store): a `StorageError`. */
export function unreachable(method: string, error: unknown): StorageError {
  return new StorageError(`The Durable Object did not answer ${method}(): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
