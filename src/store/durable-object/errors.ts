import { StorageError, StorageQuotaError } from "../errors.js";

/** A failure of the Durable Object's SQLite as edgechat's errors: a full database → StorageQuotaError. */
export function sqlStorageError(error: unknown): Error {
  const message = (error as Error | undefined)?.message ?? String(error);
  if (/SQLITE_FULL|database or disk is full|exceeded.*(storage|size)/i.test(message)) return new StorageQuotaError({ cause: error });
  if (/SQLITE_TOOBIG/.test(message)) return new StorageError(`Too large to store in a Durable Object (over 2 MiB in one value): ${message}`, { cause: error });
  return new StorageError(`Durable Object storage failed: ${message}`, { cause: error });
}
