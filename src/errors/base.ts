const KINDS = Symbol.for("edgechat.error.kinds");

/**
 * Base of every error edgechat throws. `instanceof` works across two copies of the package (two
 * bundles, or an npm and a CDN copy): each error carries the kinds of its classes under a global
 * symbol, and each of edgechat's classes (a class with its own static `kind`) checks that list
 * instead of its own prototype chain.
 *
 * Subclassing works as with any class: the list is collected along the whole chain of the error's
 * constructor, skipping classes without their own `kind` (yours), so an instance of
 * `class MyQuota extends StorageQuotaError {}` is a `StorageQuotaError`, a `StorageError` and an
 * `EdgeChatError` (and its `name` is the nearest edgechat kind, "StorageQuotaError", unless you set
 * one). `instanceof MyQuota` is the ordinary prototype check: a class without its own `kind` inherits
 * no kind check. Whatever the class, `instanceof` is true at least wherever the prototype chain says so.
 *
 * Subclasses `declare` the properties their constructor assigns: a plain declaration would also be emitted
 * as a class field, defining each property a first time (as undefined) only to be assigned right after.
 */
export class EdgeChatError extends Error {
  /** The class's stable name: survives minification, unlike `Function.name`. */
  static readonly kind: string = "EdgeChatError";

  declare readonly [KINDS]: readonly string[];

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const kinds: string[] = [];
    for (let c: unknown = new.target; c; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, "kind")) kinds.push((c as { kind: string }).kind);
    }
    Object.defineProperty(this, KINDS, { value: kinds });
    Object.defineProperty(this, "name", { value: kinds[0], writable: true, configurable: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const kinds = Object.hasOwn(this, "kind") ? (value as { [KINDS]?: unknown } | null | undefined)?.[KINDS] : undefined;
    // edgechat's classes also accept errors of their kind from another copy; never less than the prototype chain says.
    return (Array.isArray(kinds) && kinds.includes(this.kind)) || Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** True for any error thrown by edgechat, from this copy of the package or another. */
export function isEdgeChatError(value: unknown): value is EdgeChatError {
  return value instanceof EdgeChatError;
}
