// removeMessages in one atomic step however many messages it removes (up to MAX_REMOVAL: store.ts). One commit
// (checked against the conversation's record) takes the messages, with every branch under them, out of the meta (its
// count, forks and active leaf; not its usage: what was spent stays spent) and lists their seqs under
// [removal, key, n], with `removing` set on the record; every reader skips the listed seqs from
// then on. Later commits delete the listed messages batch by batch, with their image references and blobs, taking
// each from the list in the same commit; the last one clears `removing`. A crash anywhere leaves either the old
// conversation or the new one in every reader's view, and the next write to the conversation finishes the cleanup
// first.
import { refDeltas } from "../stored-message.js";
import { stageImages } from "./images.js";
import type { ConversationRecord, Keys, MessageRecord } from "./keys.js";
import { valueSize } from "./limits.js";
import { addDeleted, fitting, inBatches, Plan } from "./plan.js";
import { getAll, transact } from "./transact.js";
import type { AtomicOperationLike, DenoKvLike, KvEntry } from "./types.js";

/** Seqs per list value (a few bytes each, well under Deno KV's 64 KiB). */
const PER_VALUE = 8_000;
/** Seqs one removal commit lists (16 values, under the 800 KiB a commit may carry). A longer removal takes several. */
export const MAX_REMOVAL = 16 * PER_VALUE;

/** Adds to `op` the list of the seqs being removed (at most MAX_REMOVAL). */
export function listRemoval(op: AtomicOperationLike, keys: Keys, key: string, seqs: readonly number[]): void {
  for (let n = 0; n * PER_VALUE < seqs.length; n++) op.set([...keys.removal(key), n], seqs.slice(n * PER_VALUE, (n + 1) * PER_VALUE));
}

/** The seqs a conversation's readers skip: those of its unfinished removal. */
export async function hiddenSeqs(kv: DenoKvLike, keys: Keys, conversation: ConversationRecord): Promise<Set<number>> {
  const hidden = new Set<number>();
  if (!conversation.removing) return hidden;
  for await (const { value } of kv.list<number[]>({ prefix: keys.removal(conversation.key) })) for (const seq of value) hidden.add(seq);
  return hidden;
}

/** Deletes what the conversation's unfinished removal lists, batch by batch, then clears `removing`. */
export async function finishRemoval(kv: DenoKvLike, keys: Keys, id: string): Promise<void> {
  await inBatches(deleteBatch);

  function deleteBatch(read: number) {
    return transact(kv, keys, async (op, staging) => {
      const entry = await kv.get<ConversationRecord>(keys.conversation(id));
      if (!entry.value?.removing) return { value: true, skip: true };
      const { removing: _, ...conversation } = entry.value;
      op.check(entry);
      const lists: KvEntry<number[]>[] = [];
      for await (const list of kv.list<number[]>({ prefix: keys.removal(conversation.key) })) lists.push(list);
      const list = lists[0];
      if (!list) {
        op.set(entry.key, conversation);
        return { value: true };
      }
      // A new versionstamp on the record: a second cleaner of the same removal retries instead of repeating this batch.
      op.set(entry.key, entry.value);
      const seqs = list.value.slice(0, read);
      const records = await getAll<MessageRecord>(kv, seqs.map((seq) => keys.message(conversation.key, seq)));
      // As many as one commit holds, with the record's check and set and the list's rest (at most as long as now).
      const plan = new Plan(keys);
      plan.tally.check(entry.key);
      plan.tally.set(entry.key, valueSize(entry.value));
      plan.tally.set(list.key, valueSize(list.value));
      const taken = fitting(plan, records, (p, { value }, j) => addDeleted(p, keys, conversation.key, seqs[j]!, value));
      const batch = records.slice(0, taken);
      const released: string[] = [];
      const blobs: string[] = [];
      for (const { key, value } of batch) {
        op.delete(key);
        if (value === null) continue;
        op.delete(keys.messageId(conversation.key, value.id));
        released.push(...value.images);
        if (value.blob) blobs.push(value.blob);
      }
      const rest = list.value.slice(taken);
      if (rest.length > 0) op.set(list.key, rest);
      else op.delete(list.key);
      const freed = await stageImages(kv, keys, op, staging, refDeltas([], released), new Map());
      return { value: false, freed: [...freed, ...blobs] };
    });
  }
}
