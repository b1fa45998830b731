// Messages stored under a conversation key that no conversation points at any more: a deleted conversation's
// (its record went in one commit, its messages go here in batches) or those of an import that failed midway.
import { refDeltas } from "../stored-message.js";
import { sweepBlobs } from "./blobs.js";
import { stageImages } from "./images.js";
import type { Keys, MessageRecord, TrashRecord } from "./keys.js";
import { valueSize } from "./limits.js";
import { addDeleted, fitting, inBatches, Plan } from "./plan.js";
import { transact } from "./transact.js";
import type { DenoKvLike, KvEntry } from "./types.js";

/** A trash entry this old whose purge has not finished (a crash, a failed import) is purged by the next sweep. */
const STALE = 10 * 60_000;

/** Deletes the messages under `key` and their image references, then the trash entry. */
export async function purge(kv: DenoKvLike, keys: Keys, key: string): Promise<void> {
  await inBatches(deleteBatch);

  function deleteBatch(read: number) {
    return transact(kv, keys, async (op, staging) => {
      const trash = await kv.get<TrashRecord>(keys.trash(key));
      if (trash.value === null) return { value: true, skip: true };
      op.check(trash);
      const listed: KvEntry<MessageRecord>[] = [];
      for await (const entry of kv.list<MessageRecord>({ prefix: keys.messages(key) }, { limit: read })) listed.push(entry);
      if (listed.length === 0) {
        // The list of a removal that was still deleting when the conversation was deleted (its messages are gone now).
        for await (const { key: k } of kv.list({ prefix: keys.removal(key) })) op.delete(k);
        op.delete(trash.key);
        return { value: true };
      }
      const plan = new Plan(keys);
      plan.tally.check(trash.key);
      plan.tally.set(trash.key, valueSize(trash.value));
      const batch = listed.slice(0, fitting(plan, listed, (p, e) => addDeleted(p, keys, key, e.key[e.key.length - 1]!, e.value)));
      op.set(trash.key, trash.value); // a new versionstamp: a second purger of the same key retries
      for (const { key: k, value } of batch) op.delete(k).delete(keys.messageId(key, value.id));
      const freed = await stageImages(kv, keys, op, staging, refDeltas([], batch.flatMap((e) => e.value.images)), new Map());
      return { value: false, freed: [...freed, ...batch.flatMap((e) => (e.value.blob ? [e.value.blob] : []))] };
    });
  }
}

/** Finishes purges left over by a crash or a failed import, and deletes the blobs a crash left unreferenced. */
export async function sweep(kv: DenoKvLike, keys: Keys): Promise<void> {
  await sweepBlobs(kv, keys);
  const stale: string[] = [];
  for await (const { key, value } of kv.list<TrashRecord>({ prefix: keys.allTrash }, { limit: 10 })) {
    if (value.since < Date.now() - STALE) stale.push(String(key[key.length - 1]));
  }
  for (const key of stale) await purge(kv, keys, key);
}
