// The tree rules as a store applies them, written once for every store: where an appended message goes, which
// messages the active path's page holds, where a switch lands, what a removal takes. Each store gives a reader over
// its own records (ordered by `seq`, the order messages were stored in); these functions decide, the store writes.
// They assume the reader sees one consistent state (a transaction, one thread); a store whose reads are not one
// snapshot (Deno KV) retries a decision that failed or was overtaken, as it retries its commit.
import { newestUnder, parentKey, ROOT, subtree, withoutRemoved } from "../messages/tree.js";
import { StorageError } from "./errors.js";
import type { ConversationMeta } from "./types.js";

/** A stored message and its place in the store's order. */
export interface Placed {
  seq: number;
  message: { id: string; parentId?: string | null | undefined };
}

/** How the tree rules read a store's records of one conversation. */
export interface TreeReader<R extends Placed> {
  /** The record of message `id`, if stored. */
  find(id: string): R | undefined | Promise<R | undefined>;
  /** Up to `count` records with a seq ≥ `seq`, oldest first (`count` may be Infinity). */
  after(seq: number, count: number): R[] | Promise<R[]>;
  /** Up to `count` records with a seq < `seq`, newest first. */
  before(seq: number, count: number): R[] | Promise<R[]>;
}

const node = (record: Placed) => record.message;
/** A message a store was asked about is not in the conversation. */
export const missing = (conversationId: string, id: string) => new StorageError(`No message "${id}" in conversation "${conversationId}"`);

/**
 * Where `message` goes: its parent (`parentId`; absent means the active leaf, `null` no parent), which must be
 * stored; and, when it is the parent's second child, the first (the forks list both). Throws `StorageError` for a
 * parent not stored. Returns the message as stored: `parentId` a string, or absent for a first message.
 */
export async function place<M extends Placed["message"], R extends Placed>(
  meta: ConversationMeta,
  message: M,
  read: TreeReader<R>,
): Promise<{ message: M; existing: string | undefined }> {
  const parent = message.parentId === undefined ? meta.activeLeaf : (message.parentId ?? undefined);
  const above = parent === undefined ? undefined : await read.find(parent);
  if (parent !== undefined && !above) throw missing(meta.id, parent);
  const key = parent ?? ROOT;
  let existing: string | undefined;
  // The active leaf has no children, and a known fork lists them all: only a message's first new version looks for
  // the one it joins, which is nearly always stored right after the parent.
  if (meta.messageCount > 0 && parent !== meta.activeLeaf && !meta.forks?.[key]) {
    for (let seq = above ? above.seq + 1 : 0; existing === undefined; ) {
      const batch = await read.after(seq, 16);
      if (batch.length === 0) break;
      existing = batch.find((r) => parentKey(r.message) === key)?.message.id;
      seq = batch.at(-1)!.seq + 1;
    }
  }
  return { message: samePlace(message, { id: "", parentId: parent }), existing };
}

/**
 * A page of the active path, oldest first: the `limit` messages ending at the active leaf, or (with `before`, a
 * cursor this function returned) at the message the previous page stopped above. Reads parent links newest first
 * in ranges, so a page of a long linear history is two reads; past another branch's messages it jumps to the parent.
 */
export async function pathPage<R extends Placed>(
  leaf: string | undefined,
  limit: number,
  before: number | undefined,
  read: TreeReader<R>,
): Promise<{ page: R[]; before?: number }> {
  let current = before === undefined ? leaf === undefined ? undefined : await read.find(leaf) : (await read.before(before, 1))[0];
  const page: R[] = [];
  // Records just below the last one placed on the page, newest first, with no gap: a parent not among them is older.
  let below: R[] = [];
  while (current) {
    if (page.length === limit) return { page: page.reverse(), before: current.seq + 1 };
    page.push(current);
    const parent = current.message.parentId;
    let next: R | undefined;
    while (parent != null && !next) {
      const at = below.findIndex((r) => r.message.id === parent);
      if (at !== -1) {
        next = below[at];
        below = below.slice(at + 1);
      } else if (below.length > 0) {
        // Not among the records just below: the parent is past another branch's messages. Jump there.
        next = await read.find(parent);
        below = [];
        if (!next) break; // a parent that is not stored: the path ends here
      } else {
        below = await read.before(current.seq, Math.max(16, limit - page.length + 1));
        if (below.length === 0) break;
      }
    }
    current = next;
  }
  return { page: page.reverse() };
}

/** The leaf a switch to `id` lands on: the newest message under it (itself if none). Throws for an id not stored. */
export async function leafUnder<R extends Placed>(meta: ConversationMeta, id: string, read: TreeReader<R>): Promise<string> {
  const record = await read.find(id);
  if (!record) throw missing(meta.id, id);
  return newestUnder(id, await read.after(record.seq, Infinity), node)!.message.id;
}

/**
 * Removing `ids` removes everything under them too (a branch): returns those records, oldest first (ids not stored
 * are skipped), and updates `meta` — the count, the forks, and the active leaf if it was removed: back up to the
 * nearest message that stays, then down to the newest leaf under it.
 */
export async function removal<R extends Placed>(meta: ConversationMeta, ids: readonly string[], read: TreeReader<R>): Promise<R[]> {
  const roots = (await Promise.all(ids.map((id) => read.find(id)))).filter((r): r is Awaited<R> => r !== undefined);
  if (roots.length === 0) return [];
  const later = await read.after(Math.min(...roots.map((r) => r.seq)), Infinity);
  const removed = subtree(
    roots.map((r) => r.message.id),
    later,
    node,
  );
  const gone = new Set(removed.map((r) => r.message.id));
  meta.messageCount -= removed.length;
  const forks = withoutRemoved(meta.forks, gone);
  if (forks) meta.forks = forks;
  else delete meta.forks;
  if (meta.activeLeaf !== undefined && gone.has(meta.activeLeaf)) {
    const byId = new Map(later.map((r) => [r.message.id, r]));
    let up: string = meta.activeLeaf;
    while (gone.has(up)) up = parentKey(byId.get(up)!.message);
    const from = up === ROOT ? 0 : (await read.find(up))!.seq;
    const kept = (await read.after(from, Infinity)).filter((r) => !gone.has(r.message.id));
    const leaf = newestUnder(up, kept, node)?.message.id;
    if (leaf === undefined) delete meta.activeLeaf;
    else meta.activeLeaf = leaf;
  }
  return removed;
}

/** An update of a stored message: its content changes, its place in the tree does not. */
export function samePlace<M extends Placed["message"]>(message: M, stored: Placed["message"]): M {
  const { parentId: _, ...rest } = message;
  return (stored.parentId == null ? rest : { ...rest, parentId: stored.parentId }) as M;
}
