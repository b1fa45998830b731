// Bytes over Deno KV's 64 KiB value cap: split across [..blob, token, n]. A blob is written once under a fresh
// token and never changed, so whoever references it (an image record, a long message) owns it outright.
import { newId } from "../../conversation/id.js";
import { StorageError } from "../errors.js";
import type { Keys } from "./keys.js";
import type { AtomicOperationLike, DenoKvLike, KvKey } from "./types.js";

/** Deno KV's cap on one value, which a bare Uint8Array may fill. */
export const CHUNK = 65_536;
/** What one commit may carry in blob bytes (Deno KV caps a commit at 800 KiB, keys and other values included). */
const BUDGET = 500_000;
/** Chunks per commit when a blob is written ahead of its commit. */
const CHUNKS_PER_WRITE = 10;

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

async function writeBlob(kv: DenoKvLike, keys: Keys, token: string, bytes: Uint8Array): Promise<void> {
  let op = kv.atomic();
  let pending = 0;
  for (const [n, chunk] of chunks(bytes)) {
    op.set([...keys.blob(token), n], chunk);
    if (++pending === CHUNKS_PER_WRITE) {
      await op.commit();
      op = kv.atomic();
      pending = 0;
    }
  }
  if (pending > 0) await op.commit();
}

/** Deletes a blob no record references any more. Best effort: a failure only leaves unreachable bytes. */
export async function deleteBlob(kv: DenoKvLike, keys: Keys, token: string): Promise<void> {
  try {
    const found: KvKey[] = [];
    for await (const { key } of kv.list({ prefix: keys.blob(token) })) found.push(key);
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
 * New blobs for one store call, across its commit attempts. A blob goes inside the attempt's commit while the
 * commit has room (then it exists exactly when the commit succeeds); a larger one is written ahead, once,
 * reused by every attempt, and deleted at the end unless the successful commit references it.
 */
export class Staging {
  private budget = BUDGET;
  private readonly ahead = new Map<string, string>();
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
    let token = this.ahead.get(label);
    if (token === undefined) {
      token = newId();
      if (this.take(bytes.length)) {
        for (const [n, chunk] of chunks(bytes)) op.set([...this.keys.blob(token), n], chunk);
      } else {
        try {
          await writeBlob(this.kv, this.keys, token, bytes);
        } catch (error) {
          await deleteBlob(this.kv, this.keys, token);
          throw error;
        }
        this.ahead.set(label, token);
      }
    }
    this.used.add(token);
    return token;
  }

  /** After the last attempt: delete what was written ahead and is not referenced by a successful commit. */
  async end(committed: boolean): Promise<void> {
    for (const token of this.ahead.values()) if (!committed || !this.used.has(token)) await deleteBlob(this.kv, this.keys, token);
  }
}
