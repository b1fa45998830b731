import { StorageError, StorageQuotaError } from "../errors.js";

/** A Deno KV failure as edgechat's errors: a full disk or database → StorageQuotaError. */
export function kvStorageError(error: unknown): Error {
  const message = (error as Error | undefined)?.message ?? String(error);
  if (/SQLITE_FULL|disk is full|quota/i.test(message)) return new StorageQuotaError({ cause: error });
  if (/too large|too many/i.test(message)) return new StorageError(`Over a Deno KV limit: ${message}`, { cause: error });
  return new StorageError(`Deno KV failed: ${message}`, { cause: error });
}
