// How the tree rules (../tree.ts) read one conversation's messages: by id (msg_id → seq, then the record), and by
// seq in range reads (kv.list from or up to a key, newest first going back, with a limit), skipping the seqs an
// unfinished removal hides (removal.ts). A record names its message's parent (`parent`), so walking the tree never
// decodes a body.
//
// Conversations stored before messages had parents were lines, and read as the lines they were: a record without
// `parent` follows the record stored before it (gaps left by removals skipped), and a meta with messages but no
// active leaf ends at the newest (`settled`). Only the meta is ever rewritten (store.ts: a write that decides by the
// tree stores it settled); old records stay as they are. They are always the oldest: every later record has `parent`.
import type { TreeReader } from "../tree.js";
import type { ConversationMeta } from "../types.js";
import type { ConversationRecord, Keys, MessageRecord } from "./keys.js";
import type { DenoKvLike, KvEntry } from "./types.js";

/** A message record, where the tree rules see it. */
export interface Node {
  seq: number;
  message: { id: string; parentId?: string };
  record: MessageRecord;
}

export type Reader = TreeReader<Node>;

const seqOf = (entry: KvEntry<unknown>) => entry.key[entry.key.length - 1] as number;

/** A reader of `conversation`'s messages; `hidden`: the seqs its unfinished removal lists (a writer has none). */
export function treeReader(kv: DenoKvLike, keys: Keys, conversation: ConversationRecord, hidden: ReadonlySet<number> = new Set()): Reader {
  const prefix = keys.messages(conversation.key);

  /** Up to `count` records from `seq` on, oldest first; or (`back`) before `seq`, newest first. */
  async function range(seq: number, count: number, back: boolean): Promise<KvEntry<MessageRecord>[]> {
    const found: KvEntry<MessageRecord>[] = [];
    if (!(count > 0)) return found;
    const bound = keys.message(conversation.key, seq);
    const selector = back ? { prefix, end: bound } : { prefix, start: bound };
    // Hidden records come back too, and are skipped: read as many more.
    const options = count === Infinity ? { reverse: back } : { reverse: back, limit: count + hidden.size };
    for await (const entry of kv.list<MessageRecord>(selector, options)) {
      if (!hidden.has(seqOf(entry))) found.push(entry);
      if (found.length === count) break;
    }
    return found;
  }

  /** Records given oldest first, with none between them left out: an old record follows the one before it. */
  async function nodes(entries: readonly KvEntry<MessageRecord>[]): Promise<Node[]> {
    const first = entries[0];
    let previous = first && first.value.parent === undefined ? (await range(seqOf(first), 1, true))[0]?.value.id : undefined;
    return entries.map((entry) => {
      const { id, parent } = entry.value;
      const parentId = parent === undefined ? previous : (parent ?? undefined);
      previous = id;
      return { seq: seqOf(entry), message: parentId === undefined ? { id } : { id, parentId }, record: entry.value };
    });
  }

  return {
    async find(id) {
      const seq = (await kv.get<number>(keys.messageId(conversation.key, id))).value;
      if (seq === null || hidden.has(seq)) return undefined;
      const entry = await kv.get<MessageRecord>(keys.message(conversation.key, seq));
      return entry.value === null ? undefined : (await nodes([entry as KvEntry<MessageRecord>]))[0];
    },
    after: async (seq, count) => nodes(await range(seq, count, false)),
    before: async (seq, count) => (await nodes((await range(seq, count, true)).reverse())).reverse(),
  };
}

/** Stored before conversations were trees, and not written since: messages, but no active leaf. */
export const unsettled = (meta: ConversationMeta): boolean => meta.activeLeaf === undefined && meta.messageCount > 0;

/** The conversation's meta, an old one's with its active leaf: its newest message. */
export async function settled(conversation: ConversationRecord, read: Reader): Promise<ConversationMeta> {
  if (!unsettled(conversation.meta)) return conversation.meta;
  const [newest] = await read.before(conversation.nextSeq, 1);
  return newest ? { ...conversation.meta, activeLeaf: newest.message.id } : conversation.meta;
}
