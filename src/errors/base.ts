const KINDS = Symbol.for("edgechat.error.kinds");

/**
 * Base of every error edgechat throws. `instanceof` works across two copies of the package (two
 * bundles, or an npm and a CDN copy): each error carries the names of its classes under a global
 * symbol, and every class checks that list instead of its own prototype chain.
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
    for (let c: unknown = new.target; typeof c === "function" && Object.hasOwn(c, "kind"); c = Object.getPrototypeOf(c)) {
      kinds.push((c as unknown as { kind: string }).kind);
    }
    Object.defineProperty(this, KINDS, { value: kinds });
    Object.defineProperty(this, "name", { value: kinds[0] ?? "EdgeChatError", writable: true, configurable: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    const kinds = (value as { [KINDS]?: unknown })[KINDS];
    return Array.isArray(kinds) && kinds.includes(this.kind);
  }
}

/** True for any error thrown by edgechat, from this copy of the package or another. */
export function isEdgeChatError(value: unknown): value is EdgeChatError {
  return value instanceof EdgeChatError;
}
