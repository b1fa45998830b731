import { EdgeChatError } from "../errors/base.js";
import type { ConversationStore } from "./types.js";

/**
 * Every method of `store`, with what it throws passed through `toError`. edgechat's own errors pass as they are,
 * and so does a RangeError: a bad argument (a `limit` of -1) is the caller's mistake, not a storage failure to retry.
 */
export function guardStore(store: ConversationStore, toError: (error: unknown) => Error): ConversationStore {
  const guarded: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store) as [string, (...args: unknown[]) => unknown][]) {
    guarded[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (error) {
        throw error instanceof EdgeChatError || error instanceof RangeError ? error : toError(error);
      }
    };
  }
  return guarded as unknown as ConversationStore;
}
