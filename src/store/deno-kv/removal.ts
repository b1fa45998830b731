// removeMessages in one atomic step however many messages it removes. One commit (checked against the
// conversation's record) takes the messages out of the meta's count and usage and lists their seqs under
// [removal, key, n], with `removing` set on the record; every reader skips the listed seqs from then on. Later
// commits delete the listed messages batch by batch, with their image references and blobs, taking each from the
// list in the same commit; the last one clears `removing`. A crash anywhere leaves either the old conversation or
// the new one in every reader's view, and the next write to the conversation finishes the cleanup first.
import { refDeltas } from "../stored-message.js";
import { stageImages } from "./images.js";
import type { ConversationRecord, Keys, MessageRecord } from "./keys.js";
import { getAll, transact } from "./transact.js";
import type { AtomicOperationLike, DenoKvLike, KvEntry } from "./types.js";

/** Seqs per list value (a few bytes each, well under Deno KV's 64 KiB). */
const PER_VALUE = 8_000;
/** Seqs one removal commit lists (16 values, under the 800 KiB a commit may carry). A longer removal takes several. */
export const MAX_REMOVAL = 16 * PER_VALUE;
/** Messages deleted per cleanup commit, and image records it may check (Deno KV allows 100 checks per commit). */
const CLEAN_BATCH = 40;
const MAX_IMAGES = 80;

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
  for (let done = false; !done; ) {
    ({ value: done } = await transact(kv, keys, async (op, staging) => {
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
      const records = await getAll<MessageRecord>(kv, list.value.slice(0, CLEAN_BATCH).map((seq) => keys.message(conversation.key, seq)));
      const images = new Set<string>();
      let taken = 0;
      for (const { value } of records) {
        const next = new Set([...images, ...(value?.images ?? [])]);
        if (taken > 0 && next.size > MAX_IMAGES) break;
        for (const hash of next) images.add(hash);
        taken++;
      }
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
    }));
  }
}
