import { EdgeChatError } from "../errors/base.js";
import type { ConversationStore } from "./types.js";

/**
 * `store`, with what its methods throw (or reject with) passed through `toError`. edgechat's own errors pass as they
 * are, and so does a RangeError: a bad argument (a `limit` of -1) is the caller's mistake, not a storage failure to
 * retry. A Proxy, so the result is the same kind of store as `store`, extra methods and all, with no cast.
 */
export function guardStore<S extends ConversationStore>(store: S, toError: (error: unknown) => Error): S {
  const convert = (error: unknown): never => {
    throw error instanceof EdgeChatError || error instanceof RangeError ? error : toError(error);
  };
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = value.apply(target, args);
          return result instanceof Promise ? result.catch(convert) : result;
        } catch (error) {
          return convert(error);
        }
      };
    },
  });
}
