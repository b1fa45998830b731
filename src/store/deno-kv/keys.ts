// Where everything lives, under the store's prefix (["edgechat"] unless given another, e.g. one per user).
//   conv, id                     → ConversationRecord: the meta, the next seq, and `key`, the id of this
//                                  conversation's messages (new for every create/import: a deleted conversation's
//                                  leftovers can never mix with a new one of the same id)
//   conv_by_updated, updatedAt, id → the meta again: list() pages newest first with one range read
//   msg, key, seq                → MessageRecord: the message as JSON bytes (or the blob holding them), its parent,
//                                  its images; seq is the order messages were stored in, a parent always first
//   msg_id, key, messageId       → seq
//   img, sha256                  → ImageRecord: size, references, the blob holding the bytes
//   blob, token, n               → up to 64 KiB of a blob (Deno KV's cap on one value)
//   loose, token                 → LooseBlob: a blob no committed record references (yet, or any more): blobs.ts
//   trash, key                   → messages of a deleted conversation (or of an import under way) to purge
//   removal, key, n              → seqs of messages removed (hidden from readers) and not yet deleted: removal.ts
//   lock, id                     → LockRecord: the lease of the conversation's writer lock (lock.ts)
import type { ConversationMeta } from "../types.js";
import type { KvKey } from "./types.js";

export interface ConversationRecord {
  meta: ConversationMeta;
  nextSeq: number;
  key: string;
  /** A removeMessages has committed and its messages are not all deleted yet: readers skip the seqs it lists. */
  removing?: true;
  /** How many removals have committed: a reader that sees it change while reading reads again. */
  removals?: number;
}

export interface MessageRecord {
  id: string;
  /**
   * The message's parent (`null`: a first message); the JSON leaves it out. Absent on records stored before
   * conversations were trees: such a record follows the one stored before it (reader.ts).
   */
  parent?: string | null;
  /** One hash per image part. */
  images: string[];
  /** Byte length of the JSON. */
  size: number;
  /** The JSON (UTF-8), when it fits in the record; else in blob `blob`. */
  body?: Uint8Array;
  blob?: string;
}

export interface ImageRecord {
  size: number;
  refs: number;
  blob: string;
}

/** A blob written ahead of the commit that will reference it, or freed by a commit: swept if left behind. */
export interface LooseBlob {
  since: number;
  /** Nothing references it or ever will (freed, or claimed by a sweep): delete it whatever its age. */
  free?: true;
}

export interface TrashRecord {
  since: number;
  /** Set while an import writes its messages: not to be purged until it is old (the import failed midway). */
  importing?: string;
}

/** Held by whoever wrote `token` until `expiresAt` (ms since the epoch); past it, anyone may take it over. */
export interface LockRecord {
  token: string;
  expiresAt: number;
}

export type Keys = ReturnType<typeof keysUnder>;

export function keysUnder(prefix: KvKey) {
  return {
    conversation: (id: string): KvKey => [...prefix, "conv", id],
    byUpdated: (updatedAt: number, id: string): KvKey => [...prefix, "conv_by_updated", updatedAt, id],
    allByUpdated: [...prefix, "conv_by_updated"] as KvKey,
    message: (key: string, seq: number): KvKey => [...prefix, "msg", key, seq],
    messages: (key: string): KvKey => [...prefix, "msg", key],
    messageId: (key: string, messageId: string): KvKey => [...prefix, "msg_id", key, messageId],
    image: (hash: string): KvKey => [...prefix, "img", hash],
    blob: (token: string): KvKey => [...prefix, "blob", token],
    loose: (token: string): KvKey => [...prefix, "loose", token],
    allLoose: [...prefix, "loose"] as KvKey,
    trash: (key: string): KvKey => [...prefix, "trash", key],
    removal: (key: string): KvKey => [...prefix, "removal", key],
    allTrash: [...prefix, "trash"] as KvKey,
    lock: (id: string): KvKey => [...prefix, "lock", id],
  };
}
