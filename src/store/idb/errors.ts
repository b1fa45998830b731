import { EdgeChatError } from "../../errors/base.js";
import { StorageError, StorageQuotaError } from "../errors.js";

/**
 * The database needs an upgrade, and another tab keeps the older version open without closing it (a tab of
 * an old build of the app, or one stuck in a long task). Closing or reloading the other tabs fixes it.
 */
export class DatabaseBlockedError extends StorageError {
  static override readonly kind: string = "DatabaseBlockedError";
  constructor(name: string) {
    super(`The database "${name}" needs an upgrade, but another tab keeps it open: close or reload the other tabs of this app`);
  }
}

/** An IndexedDB failure as edgechat's errors: full disk → StorageQuotaError, anything else → StorageError with the cause. */
export function storageError(error: unknown): Error {
  if (error instanceof EdgeChatError) return error;
  const name = String((error as Error | undefined)?.name);
  if (/quota/i.test(name)) return new StorageQuotaError({ cause: error });
  return new StorageError(
    name === "VersionError"
      ? "The database was upgraded by a newer version of this app (in another tab): reload the page"
      : `IndexedDB failed: ${(error as Error | undefined)?.message ?? String(error)}`,
    { cause: error },
  );
}
