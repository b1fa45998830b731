// List cursors, shared by the server stores. A cursor names the last conversation of a page (its updatedAt and
// id), so the next page starts right after it even if other conversations were added since.
import { StorageError } from "./errors.js";
import type { ConversationMeta } from "./types.js";

export const cursorOf = (meta: ConversationMeta): string => `${meta.updatedAt}:${meta.id}`;

/** The cursor of an empty first page (limit 0): just above the newest conversation, so its next page starts there. */
export const cursorAbove = (newest: ConversationMeta): string => `${newest.updatedAt + 1}:`;

export function parseCursor(cursor: string): { updatedAt: number; id: string } {
  const colon = cursor.indexOf(":");
  const updatedAt = Number(cursor.slice(0, colon));
  if (colon < 1 || !Number.isFinite(updatedAt)) throw new StorageError(`Not a list cursor: "${cursor.slice(0, 80)}"`);
  return { updatedAt, id: cursor.slice(colon + 1) };
}
