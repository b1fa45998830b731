import { DEFAULT_PAGE } from "./accounting.js";

/**
 * The page size `limit` asks for: 50 when absent; else a whole number ≥ 0 or Infinity (capped at a million, the
 * most a store returns at once: the page's cursor then says there is more). Anything else is a RangeError, as
 * the platform's own APIs throw for a bad count: a mistake in the calling code, not a storage failure.
 */
export function pageSize(limit: number | undefined, method: "list" | "loadMessages"): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`${method}: limit must be a whole number ≥ 0 or Infinity, got ${typeof limit === "number" ? limit : typeof limit}`);
  }
  return Math.min(1e6, limit);
}
