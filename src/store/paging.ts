// Page sizes and list cursors, shared by the server stores. A cursor names the last conversation of a page
// (its updatedAt and id), so the next page starts right after it even if other conversations were added since.
import { DEFAULT_PAGE } from "./accounting.js";
import { StorageError } from "./errors.js";
import type { ConversationMeta } from "./types.js";

const MAX_PAGE = 1_000_000;

/** A usable page size: default 50, at least 1. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return DEFAULT_PAGE;
  return Math.min(MAX_PAGE, Math.max(1, Math.floor(limit)));
}

export const cursorOf = (meta: ConversationMeta): string => `${meta.updatedAt}:${meta.id}`;

export function parseCursor(cursor: string): { updatedAt: number; id: string } {
  const colon = cursor.indexOf(":");
  const updatedAt = Number(cursor.slice(0, colon));
  if (colon < 1 || !Number.isFinite(updatedAt)) throw new StorageError(`Not a list cursor: "${cursor.slice(0, 80)}"`);
  return { updatedAt, id: cursor.slice(colon + 1) };
}
