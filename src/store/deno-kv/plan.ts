// How many messages one commit can take (an import's, a purge's, a removal's cleanup): each message is counted
// into a Plan, from above, and the batch ends before the first one that would take the commit over a Deno KV
// limit (limits.ts). Counting from above, the commit that follows never is; the tally on every commit checks it.
import type { EncodedMessage } from "../stored-message.js";
import { BUDGET, CHUNK, INLINE } from "./blobs.js";
import type { Keys, MessageRecord } from "./keys.js";
import { DenoKvLimitError, keySize, Tally, valueSize } from "./limits.js";
import type { KvKey } from "./types.js";

/** Messages a purge or a removal's cleanup reads per commit, of which it deletes as many as fit. */
export const READ = 100;

const encoder = new TextEncoder();
/** A blob token, as newId makes them (a UUID), for counting key sizes. */
const TOKEN = "00000000-0000-0000-0000-000000000000";
const imageRecord = valueSize({ size: 2 ** 29, refs: 2 ** 29, blob: TOKEN });
const freedMark = valueSize({ since: 2 ** 52, free: true });

export class Plan {
  tally = new Tally();
  /** Images already counted (each is checked once per commit however many messages use it). */
  seen = new Set<string>();
  /** Bytes that go inline while Staging's budget lasts, else are written ahead (one more check each). */
  private blobBytes = 0;
  private blobs = 0;
  private readonly keys: Keys;

  constructor(keys: Keys) {
    this.keys = keys;
  }

  fork(): Plan {
    const next = Object.assign(new Plan(this.keys), this);
    next.tally = Object.assign(new Tally(), this.tally);
    next.seen = new Set(this.seen);
    return next;
  }

  /** A blob's bytes: inline (in `chunks` chunk keys; 0: inside its record) or written ahead (its mark deleted). */
  blob(size: number, chunks: number): void {
    for (let n = 0; n < chunks; n++) this.tally.set([...this.keys.blob(TOKEN), n], 0);
    this.tally.delete(this.keys.loose(TOKEN));
    this.blobBytes += size;
    this.blobs++;
  }

  over(): boolean {
    // All inline when they fit Staging's budget together, and the bytes never more than it; past it, any of them
    // may be written ahead instead, its mark checked.
    const ahead = this.blobBytes > BUDGET ? this.blobs : 0;
    return this.tally.over({ checks: ahead, bytes: Math.min(this.blobBytes, BUDGET) + ahead * keySize(this.keys.loose(TOKEN)) }) !== undefined;
  }
}

/** How many of `items` (at least one) fit the commit whose fixed part `base` counts; `add` counts one item. */
export function fitting<T>(base: Plan, items: readonly T[], add: (plan: Plan, item: T, index: number) => void): number {
  let plan = base;
  let n = 0;
  for (const [i, item] of items.entries()) {
    const next = plan.fork();
    add(next, item, i);
    if (n > 0 && next.over()) break;
    plan = next;
    n++;
  }
  return n;
}

const chunksOf = (size: number) => Math.ceil(size / CHUNK);

/** An imported message, stored under `key` at `seq`: its record, id, body and the images it adds. */
export function addImported(plan: Plan, keys: Keys, key: string, seq: number, m: EncodedMessage): void {
  const body = encoder.encode(m.json).length;
  plan.tally.set(keys.message(key, seq), valueSize({ id: m.message.id, parent: m.message.parentId ?? null, images: m.hashes, size: body, blob: TOKEN }));
  plan.tally.set(keys.messageId(key, m.message.id), valueSize(seq));
  plan.blob(body, body <= INLINE ? 0 : chunksOf(body));
  for (const hash of m.hashes) {
    if (plan.seen.has(hash)) continue;
    plan.seen.add(hash);
    plan.tally.check(keys.image(hash));
    plan.tally.set(keys.image(hash), imageRecord);
    plan.blob(m.images.get(hash)!.length, chunksOf(m.images.get(hash)!.length));
  }
}

/** A message deleted (purge, removal): its record and id, a reference less on each image, blobs marked freed. */
export function addDeleted(plan: Plan, keys: Keys, key: string, seq: KvKey[number], record: MessageRecord | null): void {
  plan.tally.delete([...keys.messages(key), seq]);
  if (!record) return;
  plan.tally.delete(keys.messageId(key, record.id));
  if (record.blob) plan.tally.set(keys.loose(TOKEN), freedMark);
  for (const hash of record.images) {
    if (plan.seen.has(hash)) continue;
    plan.seen.add(hash);
    plan.tally.check(keys.image(hash));
    plan.tally.set(keys.image(hash), imageRecord);
    plan.tally.set(keys.loose(TOKEN), freedMark);
  }
}

/**
 * Commit `batch(read)` (each taking at most `read` items) until one reports that nothing is left. The plan counts
 * from above, so a commit over a limit is not expected; should one happen, the next batches read half as many.
 */
export async function inBatches(batch: (read: number) => Promise<{ value: boolean }>): Promise<void> {
  let read = READ;
  for (let done = false; !done; ) {
    try {
      ({ value: done } = await batch(read));
    } catch (error) {
      if (!(error instanceof DenoKvLimitError) || read === 1) throw error;
      read = Math.ceil(read / 2);
    }
  }
}
