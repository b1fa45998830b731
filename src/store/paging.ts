// Paging, in one place for every store: page sizes, and the two cursors. A list cursor names the last conversation
// of a page (its updatedAt and id), so the next page starts right after it even if other conversations were added
// since; a message cursor is a sequence number. A cursor no store could have made is a RangeError, like a bad limit:
// a mistake in the calling code, not a storage failure, thrown before anything is read.
import type { ConversationMeta } from "./types.js";

const DEFAULT_PAGE = 50;

/**
 * The page size `limit` asks for: 50 when absent; else a whole number ≥ 0 or Infinity (capped at a million, the
 * most a store returns at once: the page's cursor then says there is more). Anything else is a RangeError, as
 * the platform's own APIs throw for a bad count.
 */
export function pageSize(limit: number | undefined, method: "list" | "loadMessages"): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`${method}: limit must be a whole number ≥ 0 or Infinity, got ${typeof limit === "number" ? limit : typeof limit}`);
  }
  return Math.min(1e6, limit);
}

/** A paging cursor that is not one a store could have produced (tampered with, another store's, NaN). */
export const badCursor = (method: "list" | "loadMessages"): RangeError => new RangeError(`${method}: cursor must be from this store`);

/**
 * The `before` cursor of `loadMessages`, checked: absent, or a whole number ≥ 0 (the stores' cursors are message
 * sequence numbers). Anything else (NaN, -1, 2.5, Infinity, "3") is a RangeError.
 */
export function beforeCursor(before: unknown): number | undefined {
  if (before === undefined || (Number.isSafeInteger(before) && (before as number) >= 0)) return before as number | undefined;
  throw badCursor("loadMessages");
}

export const cursorOf = (meta: Pick<ConversationMeta, "updatedAt" | "id">): string => `${meta.updatedAt}:${meta.id}`;

/**
 * The `next` cursor of a page with more after it: right after its last conversation — or, for an empty page
 * (limit 0), where it began: its own cursor, or just above `first`, the newest conversation past it.
 */
export const nextCursor = (page: readonly ConversationMeta[], cursor: string | undefined, first: Pick<ConversationMeta, "updatedAt">): string => {
  const last = page.at(-1);
  return last ? cursorOf(last) : (cursor ?? `${first.updatedAt + 1}:`);
};

/** The position a list cursor names. One no store could have produced (tampered with) is a RangeError. */
export function parseCursor(cursor: unknown): { updatedAt: number; id: string } {
  const colon = typeof cursor === "string" ? cursor.indexOf(":") : -1;
  const updatedAt = colon < 1 ? Number.NaN : Number((cursor as string).slice(0, colon));
  // Exactly as cursorOf writes a number: no "0x10", " 5", "05" or "1e3" for 1000.
  if (!Number.isFinite(updatedAt) || String(updatedAt) !== (cursor as string).slice(0, colon)) throw badCursor("list");
  return { updatedAt, id: (cursor as string).slice(colon + 1) };
}
