// List cursors, in one format for every store. A cursor names the last conversation of a page (its updatedAt and
// id), so the next page starts right after it even if other conversations were added since; a cursor no store
// could have made is a RangeError.
import { badCursor } from "./message-cursor.js";
import type { ConversationMeta } from "./types.js";

export const cursorOf = (meta: ConversationMeta): string => `${meta.updatedAt}:${meta.id}`;

/**
 * The `next` cursor of a page with more after it: right after its last conversation — or, for an empty page
 * (limit 0), where it began: its own cursor, or just above `first`, the newest conversation past it.
 */
export const nextCursor = (page: readonly ConversationMeta[], cursor: string | undefined, first: ConversationMeta): string => {
  const last = page.at(-1);
  return last ? cursorOf(last) : (cursor ?? `${first.updatedAt + 1}:`);
};

/** The position a cursor names. One no store could have produced (tampered with) is a RangeError. */
export function parseCursor(cursor: unknown): { updatedAt: number; id: string } {
  const colon = typeof cursor === "string" ? cursor.indexOf(":") : -1;
  const updatedAt = colon < 1 ? Number.NaN : Number((cursor as string).slice(0, colon));
  // Exactly as cursorOf writes a number: no "0x10", " 5", "05" or "1e3" for 1000.
  if (!Number.isFinite(updatedAt) || String(updatedAt) !== (cursor as string).slice(0, colon)) throw badCursor("list");
  return { updatedAt, id: (cursor as string).slice(colon + 1) };
}
