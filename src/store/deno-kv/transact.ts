import { StorageError } from "../errors.js";
import { deleteBlob, isStaleRead, markFreed, Staging } from "./blobs.js";
import type { Keys } from "./keys.js";
import { tallied } from "./limits.js";
import type { AtomicOperationLike, DenoKvLike, KvEntryMaybe, KvKey } from "./types.js";

const ATTEMPTS = 50;
const BUSY = /database is locked|SQLITE_BUSY/i;

/** Another connection holds SQLite's write lock (a local database opened twice): try again. */
export const isBusy = (error: unknown): boolean => BUSY.test((error as Error | undefined)?.message ?? "");

/** `getMany`, past its 10-key limit (each group of 10 is read consistently, the groups one after another). */
export async function getAll<T>(kv: DenoKvLike, keys: readonly KvKey[]): Promise<KvEntryMaybe<T>[]> {
  const out: KvEntryMaybe<T>[] = [];
  for (let i = 0; i < keys.length; i += 10) out.push(...((await kv.getMany(keys.slice(i, i + 10))) as KvEntryMaybe<T>[]));
  return out;
}

/** What one attempt built: the call's result, the blobs its commit stops referencing, or nothing to commit. */
export interface Attempt<T> {
  value: T;
  freed?: string[];
  skip?: boolean;
}

/**
 * Optimistic concurrency: `attempt` reads, checks (in `op`) the versionstamps of what it read, and adds its
 * writes; if another writer changed any of it meanwhile, the commit fails and the attempt runs again on fresh
 * reads. Errors thrown by `attempt` (not found, duplicate) end the call with nothing written.
 */
export async function transact<T>(
  kv: DenoKvLike,
  keys: Keys,
  attempt: (op: AtomicOperationLike, staging: Staging) => Promise<Attempt<T>>,
): Promise<{ value: T; versionstamp: string }> {
  const staging = new Staging(kv, keys);
  let committed = false;
  try {
    for (let n = 1; ; n++) {
      staging.begin();
      // Counted: a commit that would be over a Deno KV limit throws DenoKvLimitError instead, nothing committed.
      const op = tallied(kv.atomic());
      let done: { built: Attempt<T>; versionstamp: string } | undefined;
      try {
        const built = await attempt(op, staging);
        if (built.skip) return { value: built.value, versionstamp: "" };
        for (const token of built.freed ?? []) markFreed(op, keys, token);
        const result = await op.commit();
        if (result.ok) done = { built, versionstamp: result.versionstamp };
      } catch (error) {
        // Another connection holds SQLite's write lock (a local database opened twice), or what the attempt read
        // changed under it: a conflict, too.
        if (!isBusy(error) && !isStaleRead(error)) throw error;
      }
      if (done) {
        committed = true;
        for (const token of done.built.freed ?? []) await deleteBlob(kv, keys, token);
        return { value: done.built.value, versionstamp: done.versionstamp };
      }
      if (n === ATTEMPTS) throw new StorageError(`Gave up after ${n} attempts: other writers kept changing the same records; try again`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** n)));
    }
  } finally {
    await staging.end(committed);
  }
}

/** Runs the calls given for one conversation one after another (within this store), so they seldom conflict. */
export function createQueue(): <T>(id: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (id, fn) => {
    const result = (tails.get(id) ?? Promise.resolve()).then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(id, tail);
    void tail.then(() => tails.get(id) === tail && tails.delete(id));
    return result;
  };
}
