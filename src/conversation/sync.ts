// Bringing a conversation in memory up to date with its store, where another tab, client or process may have
// written: the store's newest messages replace the tail they overlap, and unchanged messages keep their objects
// (token counts are cached per object).
import type { Message, MessagePart } from "../messages/types.js";

export interface TailMerge {
  /** The messages from `at` on, as the store has them now. */
  tail: Message[];
  removed: string[];
  appended: Message[];
  updated: Message[];
}

/** Merge `incoming` (the store's newest messages, oldest first) over `current.slice(at)`. */
export function mergeTail(current: readonly Message[], at: number, incoming: readonly Message[]): TailMerge {
  const old = new Map(current.slice(at).map((m) => [m.id, m]));
  const merge: TailMerge = { tail: [], removed: [], appended: [], updated: [] };
  for (const message of incoming) {
    const known = old.get(message.id);
    old.delete(message.id);
    if (!known) merge.appended.push(message);
    else if (!sameMessage(known, message)) merge.updated.push(message);
    merge.tail.push(known && sameMessage(known, message) ? known : message);
  }
  merge.removed = [...old.keys()];
  return merge;
}

export function sameMessage(a: Message, b: Message): boolean {
  if (a === b) return true;
  if (a.role !== b.role || a.pinned !== b.pinned || a.createdAt !== b.createdAt) return false;
  if (a.role === "assistant" || b.role === "assistant") return JSON.stringify(a) === JSON.stringify(b);
  if (typeof a.content === "string" || typeof b.content === "string") return a.content === b.content;
  const [x, y] = [a.content, b.content];
  return x.length === y.length && x.every((part, i) => samePart(part, y[i]!));
}

function samePart(a: MessagePart, b: MessagePart): boolean {
  if (a.type === "text" || b.type === "text") return a.type === b.type && (a as { text: string }).text === (b as { text: string }).text;
  if (a.width !== b.width || a.height !== b.height) return false;
  if ("url" in a || "url" in b) return "url" in a && "url" in b && a.url === b.url;
  return a.mimeType === b.mimeType && a.data.length === b.data.length && a.data.every((byte, i) => byte === b.data[i]);
}
