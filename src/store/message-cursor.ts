/** A paging cursor that is not one a store could have produced (tampered with, another store's, NaN). */
export const badCursor = (method: "list" | "loadMessages"): RangeError => new RangeError(`${method}: cursor must be from this store`);

/**
 * The `before` cursor of `loadMessages`, checked: absent, or a whole number ≥ 0 (the stores' cursors are message
 * sequence numbers). Anything else (NaN, -1, 2.5, Infinity, "3") is a RangeError, like a bad `limit`, thrown
 * before anything is read.
 */
export function beforeCursor(before: unknown): number | undefined {
  if (before === undefined || (Number.isSafeInteger(before) && (before as number) >= 0)) return before as number | undefined;
  throw badCursor("loadMessages");
}
