// Bytes over Deno KV's 64 KiB value cap: split across [..blob, token, n]. A blob is written once under a fresh
// token and never changed, so whoever references it (an image record, a long message) owns it outright.
// A blob that no committed record references is marked [..loose, token] for as long as its bytes exist: one
// written ahead of its commit (the commit that references it deletes the mark), and one a commit freed (marked
// in that commit, deleted right after). A crash in between leaves the mark, and `sweepBlobs` finds the bytes.
import { newId } from "../../messages/id.js";
import { StorageError } from "../errors.js";
import type { Keys, LooseBlob } from "./keys.js";
import type { AtomicOperationLike, DenoKvLike, KvEntry, KvKey } from "./types.js";

/** Deno KV's cap on one value, which a bare Uint8Array may fill. */
export const CHUNK = 65_536;
/** What one commit may carry in blob bytes (Deno KV caps a commit at 800 KiB, keys and other values included). */
export const BUDGET = 500_000;
/** A message's JSON up to this size sits in its record (one value: 64 KiB with the record's other fields). */
export const INLINE = 60_000;
/** Chunks per commit when a blob is written ahead of its commit (10 × 64 KiB and their keys: under 800 KiB). */
const CHUNKS_PER_WRITE = 10;
/** A blob written ahead and still unreferenced after this long was left by a crash (or a very slow writer). */
export const STALE = 10 * 60_000;

/** Data read a moment ago is gone (a concurrent commit replaced or deleted it): reading again will do. */
export function staleRead(message: string): StorageError {
  return Object.assign(new StorageError(message), { stale: true });
}

export const isStaleRead = (error: unknown): boolean => error instanceof StorageError && (error as { stale?: boolean }).stale === true;

function* chunks(bytes: Uint8Array): Generator<[number, Uint8Array]> {
  for (let n = 0; n * CHUNK < bytes.length; n++) yield [n, bytes.slice(n * CHUNK, (n + 1) * CHUNK)];
}

export async function readBlob(kv: DenoKvLike, keys: Keys, token: string, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for await (const { value } of kv.list<Uint8Array>({ prefix: keys.blob(token) })) {
    if (!(value instanceof Uint8Array) || offset + value.length > size) throw staleRead(`Blob ${token} is damaged`);
    bytes.set(value, offset);
    offset += value.length;
  }
  if (offset !== size) throw staleRead(`Blob ${token} is missing or incomplete`);
  return bytes;
}

/** Writes a blob ahead of its commit, marked loose from its first chunk on; returns the mark's versionstamp. */
async function writeBlob(kv: DenoKvLike, keys: Keys, token: string, bytes: Uint8Array): Promise<string> {
  let op = kv.atomic().set(keys.loose(token), { since: Date.now() } satisfies LooseBlob);
  let pending = 0;
  let mark: string | undefined;
  for (const [n, chunk] of chunks(bytes)) {
    op.set([...keys.blob(token), n], chunk);
    if (++pending === CHUNKS_PER_WRITE) {
      const result = await op.commit();
      if (result.ok) mark ??= result.versionstamp;
      op = kv.atomic();
      pending = 0;
    }
  }
  if (pending > 0) {
    const result = await op.commit();
    if (result.ok) mark ??= result.versionstamp;
  }
  if (mark === undefined) throw new StorageError(`Blob ${token} could not be written`);
  return mark;
}

/** Marks, in `op`, a blob its commit stops referencing: swept if the deleting that follows the commit never ends. */
export function markFreed(op: AtomicOperationLike, keys: Keys, token: string): void {
  op.set(keys.loose(token), { since: Date.now(), free: true } satisfies LooseBlob);
}

/** Deletes a blob no record references (any more), then its mark. Best effort: a failure leaves it to `sweepBlobs`. */
export async function deleteBlob(kv: DenoKvLike, keys: Keys, token: string): Promise<void> {
  try {
    const found: KvKey[] = [];
    for await (const { key } of kv.list({ prefix: keys.blob(token) })) found.push(key);
    found.push(keys.loose(token));
    for (let i = 0; i < found.length; i += 200) {
      const op = kv.atomic();
      for (const key of found.slice(i, i + 200)) op.delete(key);
      await op.commit();
    }
  } catch {
    // The commit that dropped the last reference has succeeded: the caller's change stands.
  }
}

/**
 * Deletes the loose blobs a crash left: freed ones, and those written ahead more than STALE ago. A blob written
 * ahead is first claimed (marked free, a new versionstamp), so that its writer's commit, which checks the mark,
 * can no longer reference it; the writer then writes it again.
 */
export async function sweepBlobs(kv: DenoKvLike, keys: Keys): Promise<void> {
  const found: KvEntry<LooseBlob>[] = [];
  for await (const entry of kv.list<LooseBlob>({ prefix: keys.allLoose }, { limit: 100 })) found.push(entry);
  for (const entry of found) {
    if (!entry.value.free) {
      if (entry.value.since > Date.now() - STALE) continue;
      const claimed = await kv.atomic().check(entry).set(entry.key, { ...entry.value, free: true } satisfies LooseBlob).commit();
      if (!claimed.ok) continue;
    }
    await deleteBlob(kv, keys, String(entry.key[entry.key.length - 1]));
  }
}

/**
 * New blobs for one store call, across its commit attempts. A blob goes inside the attempt's commit while the
 * commit has room (then it exists exactly when the commit succeeds); a larger one is written ahead, once,
 * reused by every attempt, and deleted at the end unless the successful commit references it.
 */
export class Staging {
  private budget = BUDGET;
  /** label → the blob written ahead for it, and the versionstamp of its loose mark. */
  private readonly ahead = new Map<string, { token: string; mark: string }>();
  private readonly used = new Set<string>();

  private readonly kv: DenoKvLike;
  private readonly keys: Keys;

  constructor(kv: DenoKvLike, keys: Keys) {
    this.kv = kv;
    this.keys = keys;
  }

  /** Before each attempt. */
  begin(): void {
    this.budget = BUDGET;
    this.used.clear();
  }

  /** Room in this attempt's commit for `bytes` more bytes (taken if there is). */
  take(bytes: number): boolean {
    if (bytes > this.budget) return false;
    this.budget -= bytes;
    return true;
  }

  /** A blob holding `bytes`, for the record being built in `op`; `label` names it across attempts. */
  async blob(op: AtomicOperationLike, label: string, bytes: Uint8Array): Promise<string> {
    let ahead = this.ahead.get(label);
    // Written ahead by an earlier attempt: still ours unless a sweep claimed it (a very slow call), then write again.
    if (ahead && (await this.kv.get(this.keys.loose(ahead.token))).versionstamp !== ahead.mark) {
      this.ahead.delete(label);
      ahead = undefined;
    }
    if (ahead) {
      op.check({ key: this.keys.loose(ahead.token), versionstamp: ahead.mark }).delete(this.keys.loose(ahead.token));
      this.used.add(ahead.token);
      return ahead.token;
    }
    const token = newId();
    if (this.take(bytes.length)) {
      for (const [n, chunk] of chunks(bytes)) op.set([...this.keys.blob(token), n], chunk);
    } else {
      let mark: string;
      try {
        mark = await writeBlob(this.kv, this.keys, token, bytes);
      } catch (error) {
        await deleteBlob(this.kv, this.keys, token);
        throw error;
      }
      this.ahead.set(label, { token, mark });
      // The commit that references the blob takes its mark away, if no sweep has claimed it meanwhile.
      op.check({ key: this.keys.loose(token), versionstamp: mark }).delete(this.keys.loose(token));
    }
    this.used.add(token);
    return token;
  }

  /** After the last attempt: delete what was written ahead and is not referenced by a successful commit. */
  async end(committed: boolean): Promise<void> {
    for (const { token } of this.ahead.values()) if (!committed || !this.used.has(token)) await deleteBlob(this.kv, this.keys, token);
  }
}
