// The conversation's writer lock (`lockConversation`) as a lease in Deno KV, so that it holds across store instances,
// connections and processes on one database. [lock, id] holds { token, expiresAt }: taken by a commit that checks
// the key's versionstamp (absent, or a lease that ran out: two takers cannot both win), renewed every third of the
// lease while fn runs, deleted (if still ours) once fn settles. A holder that dies leaves a lease that runs out: the
// next taker waits at most the lease. Waiters poll, backing off to POLL with jitter: kv.watch on a local database
// does not see other processes' commits (deno 2.9.6), so it cannot wake them. Within one store, waiters queue in
// order behind each other (local-lock.ts) and only the first polls. Closing `kv` while a holder is still letting go
// leaves its lease to run out.
//
// Fencing. A holder stalled past its lease (a stopped process, a long pause, a lost connection) has lost the lock,
// whether or not anyone took it since. Every write the store makes to the conversation while its lease is held
// checks the lease in the same commit (`fence`): a lease no longer ours or run out fails the write with
// DenoKvLockLostError, nothing written, and a takeover that commits between that read and the write fails the
// write's commit. So whatever fn wrote, it wrote while it held the lock. fn is not stopped (it has no signal): its
// later writes to the conversation fail, and lockConversation returns or throws what fn does.
import { StorageError } from "../errors.js";
import { createLocalLocks } from "../local-lock.js";
import type { LockOptions } from "../types.js";
import { kvStorageError } from "./errors.js";
import type { Keys, LockRecord } from "./keys.js";
import { isBusy } from "./transact.js";
import type { AtomicOperationLike, DenoKvLike, KvEntryMaybe, KvKey } from "./types.js";

/** The default lease, in ms: how long a dead holder keeps others waiting, and how long a stalled one may pause. */
export const LEASE = 15_000;
/** The longest pause between two looks at a lock held elsewhere, in ms. */
const POLL = 100;

/** This store's lease on a conversation's lock ran out while it was held: the write was refused, nothing written. */
export class DenoKvLockLostError extends StorageError {
  static override readonly kind: string = "DenoKvLockLostError";
  readonly id: string;
  constructor(id: string) {
    super(`The lock of conversation "${id}" was lost (held past its lease: a stalled process or connection); nothing was written`);
    this.id = id;
  }
}

interface Lease {
  token: string;
  lost: boolean;
}

/** A lease someone holds now (by this clock). */
export const running = (entry: KvEntryMaybe<LockRecord>): boolean => entry.value !== null && entry.value.expiresAt > Date.now();

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => (end(), reject(signal!.reason));
    const timer = setTimeout(() => (end(), resolve()), ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

export function createLeases(kv: DenoKvLike, keys: Keys, lease: number) {
  const local = createLocalLocks();
  const held = new Map<string, Lease>();
  // Deno KV deletes a dead holder's key some time after this; until then `expiresAt` says it ran out.
  const write = (op: AtomicOperationLike, key: KvKey, token: string) => op.set(key, { token, expiresAt: Date.now() + lease } satisfies LockRecord, { expireIn: 2 * lease });

  /** Our lease's record, if it is still ours and running. */
  async function ours(id: string, mine: Lease): Promise<KvEntryMaybe<LockRecord> | undefined> {
    const entry = await kv.get<LockRecord>(keys.lock(id));
    return entry.value?.token === mine.token && running(entry) ? entry : undefined;
  }

  async function take(id: string, mine: Lease, signal: AbortSignal | undefined, wait: () => void): Promise<void> {
    const key = keys.lock(id);
    for (let n = 0; ; n++) {
      signal?.throwIfAborted();
      let elsewhere = false;
      try {
        const entry = await kv.get<LockRecord>(key);
        elsewhere = running(entry);
        if (!elsewhere && (await write(kv.atomic().check(entry), key, mine.token).commit()).ok) break;
      } catch (error) {
        if (!isBusy(error)) throw kvStorageError(error);
      }
      if (elsewhere) wait();
      await pause(Math.min(POLL, 5 * 2 ** n) * (0.5 + Math.random() / 2), signal);
    }
    if (signal?.aborted) {
      await release(id, mine);
      throw signal.reason;
    }
  }

  async function renew(id: string, mine: Lease): Promise<void> {
    const entry = await ours(id, mine);
    if (!entry) mine.lost = true;
    // A conflict or a busy database: the next renewal tries again, well before the lease runs out.
    else await write(kv.atomic().check(entry), keys.lock(id), mine.token).commit();
  }

  /** A failure here only leaves the lease to run out. */
  async function release(id: string, mine: Lease): Promise<void> {
    for (let n = 0; n < 5; n++) {
      try {
        const entry = await kv.get<LockRecord>(keys.lock(id));
        if (entry.value?.token !== mine.token || (await kv.atomic().check(entry).delete(entry.key).commit()).ok) return;
      } catch (error) {
        if (!isBusy(error)) return;
      }
      await pause(5 * 2 ** n);
    }
  }

  return {
    run<T>(id: string, fn: () => T | PromiseLike<T>, { signal, onWait }: LockOptions = {}): Promise<T> {
      let told = false;
      const wait = () => {
        if (!told) (told = true), onWait?.();
      };
      return local.run(
        id,
        async () => {
          const mine: Lease = { token: globalThis.crypto.randomUUID(), lost: false };
          await take(id, mine, signal, wait);
          held.set(id, mine);
          let renewing = Promise.resolve();
          const timer = setInterval(() => (renewing = renewing.then(() => renew(id, mine)).catch(() => undefined)), lease / 3);
          try {
            return await fn();
          } finally {
            clearInterval(timer);
            held.delete(id);
            await renewing;
            await release(id, mine);
          }
        },
        { ...(signal && { signal }), onWait: wait },
      );
    },

    /** Whether this store holds `id`'s lock. */
    holds: (id: string): boolean => held.has(id),

    /** For a write to `id`: while this store holds its lock, `op` commits only if the lease is still ours. */
    async fence(op: AtomicOperationLike, id: string): Promise<void> {
      const mine = held.get(id);
      if (!mine) return;
      const entry = mine.lost ? undefined : await ours(id, mine);
      if (!entry) {
        mine.lost = true;
        throw new DenoKvLockLostError(id);
      }
      op.check(entry);
    },
  };
}
