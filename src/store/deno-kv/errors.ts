import { StorageError, StorageQuotaError } from "../errors.js";
import { DenoKvLimitError } from "./limits.js";

/** Deno KV's own errors for a commit over a limit ("Too many checks (max 100)", …), and the limit each names. */
const LIMIT_ERRORS: [RegExp, DenoKvLimitError["limit"]][] = [
  [/too many checks/i, "checks"],
  [/too many mutations/i, "mutations"],
  [/total mutation size too large/i, "bytes"],
  [/total key size too large/i, "keyBytes"],
  [/value too large/i, "value"],
  [/key too large/i, "key"],
];

/** A Deno KV failure as edgechat's errors: a full disk or database → StorageQuotaError, a limit → DenoKvLimitError. */
export function kvStorageError(error: unknown): Error {
  const message = (error as Error | undefined)?.message ?? String(error);
  if (/SQLITE_FULL|disk is full|quota/i.test(message)) return new StorageQuotaError({ cause: error });
  // What the store's own count (limits.ts) does not foresee: a title or system prompt over 64 KiB, say.
  const limit = LIMIT_ERRORS.find(([pattern]) => pattern.test(message))?.[1];
  if (limit) return new DenoKvLimitError(limit, `Over a Deno KV limit: ${message}. Nothing was stored`, { cause: error });
  return new StorageError(`Deno KV failed: ${message}`, { cause: error });
}
