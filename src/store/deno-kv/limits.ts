// Deno KV's limits on one atomic commit, and a count of what a commit holds, made the way Deno counts it.
//
// The limits (defaults of KvConfigBuilder::build in denoland/deno ext/kv/config.rs, enforced by op_kv_atomic_write
// in ext/kv/lib.rs; checked here against deno 2.9.6, whose errors read "Too many checks (max 100)", "Too many
// mutations (max 1000)", "Total mutation size too large (max 819200 bytes)", "Total key size too large (max 81920
// bytes)"):
//   checks ≤ 100, mutations ≤ 1000, one key ≤ 2048 bytes, one value ≤ 65 536 bytes;
//   total mutation size ≤ 800 KiB: the key of every check and mutation, plus each set's key and value again;
//   total key size ≤ 80 KiB: the keys of the sets (a delete's key counts only in the total mutation size).
// Sizes are of the encoded key (a tuple encoding) and of the value as stored: a bare Uint8Array as is, anything
// else V8-serialized. The serialized size is not observable without Node's `v8`, so `valueSize` bounds it from above.
import { StorageError } from "../errors.js";
import type { AtomicOperationLike, KvCheck, KvKey } from "./types.js";

export const LIMITS = { checks: 100, mutations: 1000, bytes: 800 * 1024, keyBytes: 80 * 1024 } as const;

export type Limit = keyof typeof LIMITS;

/** What one commit would need is over a Deno KV limit: nothing was committed. Smaller pieces, or fewer images, fit. */
export class DenoKvLimitError extends StorageError {
  static override readonly kind: string = "DenoKvLimitError";
  /** Which limit: checks, mutations, bytes (total mutation size) or keyBytes (total key size); value or key for one. */
  readonly limit: Limit | "value" | "key";
  constructor(limit: Limit | "value" | "key", message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.limit = limit;
  }
}

const encoder = new TextEncoder();

/** Bytes of an encoded key: each part a type byte, its bytes (0x00 escaped as two), and a terminator. */
export function keySize(key: KvKey): number {
  let size = 0;
  for (const part of key) {
    if (typeof part === "string" || part instanceof Uint8Array) {
      const bytes = typeof part === "string" ? encoder.encode(part) : part;
      size += 2 + bytes.length + bytes.filter((b) => b === 0).length;
    } else {
      size += typeof part === "boolean" ? 1 : 18; // a number takes 9; a bigint up to its byte length + 2
    }
  }
  return size;
}

const varint = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : n < 268_435_456 ? 4 : 5);

/** V8's serialized size of `value`, from above (a few bytes per value to spare), and a bare Uint8Array's length. */
export function valueSize(value: unknown, top = true): number {
  if (value instanceof Uint8Array) return top ? value.length : value.length + 24;
  const head = top ? 8 : 0;
  if (typeof value === "string") return head + 6 + (/[^\0-\xff]/.test(value) ? 2 : 1) * value.length;
  if (typeof value === "number") return head + (Number.isInteger(value) && Math.abs(value) < 2 ** 30 ? 1 + varint(2 * Math.abs(value) + 1) : 9);
  if (value === null || typeof value !== "object") return head + (typeof value === "bigint" ? 16 : 1);
  let size = head + 12;
  for (const [k, v] of Object.entries(value)) size += (Array.isArray(value) ? 0 : valueSize(k, false)) + valueSize(v, false);
  return size;
}

/** Counts of one commit, as Deno KV adds them up. */
export class Tally {
  checks = 0;
  mutations = 0;
  bytes = 0;
  keyBytes = 0;

  check(key: KvKey): void {
    this.checks++;
    this.bytes += keySize(key);
  }

  /** A set of a value `size` bytes long (see valueSize). */
  set(key: KvKey, size: number): void {
    const k = keySize(key);
    this.mutations++;
    this.bytes += 2 * k + size;
    this.keyBytes += k;
  }

  delete(key: KvKey): void {
    this.mutations++;
    this.bytes += keySize(key);
  }

  /** The first limit the counts are over, if any; `extra` is added to the checks and bytes (see Plan). */
  over(extra = { checks: 0, bytes: 0 }): Limit | undefined {
    if (this.checks + extra.checks > LIMITS.checks) return "checks";
    if (this.mutations > LIMITS.mutations) return "mutations";
    if (this.bytes + extra.bytes > LIMITS.bytes) return "bytes";
    if (this.keyBytes > LIMITS.keyBytes) return "keyBytes";
    return undefined;
  }
}

export const tooLarge = (limit: Limit): DenoKvLimitError =>
  new DenoKvLimitError(limit, `One Deno KV commit allows at most ${LIMITS[limit]} ${limit === "checks" ? "checks" : limit === "mutations" ? "mutations" : limit === "bytes" ? "bytes in all" : "bytes of keys"}: this change needs more (a message with too many distinct images?). Nothing was stored`);

/**
 * `op`, counting what is added to it: the moment a commit would be over a limit, the call that adds the excess
 * throws DenoKvLimitError (before the commit, and before anything else is written for it).
 */
export function tallied(op: AtomicOperationLike): AtomicOperationLike {
  const tally = new Tally();
  const guard = () => {
    const limit = tally.over();
    if (limit) throw tooLarge(limit);
  };
  const counted: AtomicOperationLike = {
    check(...checks: KvCheck[]) {
      for (const c of checks) tally.check(c.key);
      guard();
      op.check(...checks);
      return counted;
    },
    set(key, value) {
      tally.set(key, valueSize(value));
      guard();
      op.set(key, value);
      return counted;
    },
    delete(key) {
      tally.delete(key);
      guard();
      op.delete(key);
      return counted;
    },
    commit: () => op.commit(),
  };
  return counted;
}
