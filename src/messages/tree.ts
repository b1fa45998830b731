// A conversation is a tree: each message follows its parent (`parentId`; a first message has none), and an edit or a
// regeneration adds a sibling — a version — instead of overwriting. One leaf is active; the path to it is what is
// shown and sent. These are the rules every store and the Conversation share; they work on ids, never on content.

/** The key of first messages (they have no parent) in `Forks`. */
export const ROOT = "";

/**
 * Every message with more than one version: its parent's id (`ROOT` for first messages) → the versions' ids, oldest
 * first. Only forks are listed, so the map grows with edits and regenerations, not with the conversation.
 */
export type Forks = Record<string, string[]>;

interface Node {
  id: string;
  parentId?: string | null | undefined;
}

export const parentKey = (message: Node): string => message.parentId ?? ROOT;

/** The forks after `added` became a child of `parent`, whose existing child (if any, and not yet a fork) is `existing`. */
export function withVersion(forks: Forks | undefined, parent: string, existing: string | undefined, added: string): Forks | undefined {
  const versions = forks?.[parent] ?? (existing === undefined ? undefined : [existing]);
  return versions ? { ...forks, [parent]: [...versions, added] } : forks;
}

/** The forks without the removed messages: a fork left with one version is no fork any more. */
export function withoutRemoved(forks: Forks | undefined, removed: ReadonlySet<string>): Forks | undefined {
  if (!forks) return forks;
  const kept: Forks = {};
  for (const [parent, ids] of Object.entries(forks)) {
    const left = ids.filter((id) => !removed.has(id));
    if (!removed.has(parent) && left.length > 1) kept[parent] = left;
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** A message's versions (its siblings and itself, oldest first) and its place among them. */
export function versionsOf(forks: Forks | undefined, message: Node): { ids: readonly string[]; index: number } {
  const ids = forks?.[parentKey(message)] ?? [message.id];
  return { ids, index: Math.max(0, ids.indexOf(message.id)) };
}

/**
 * The messages under any of `roots`, the roots included, from `ordered` (in the order they were added: a parent
 * always comes before its children). `ROOT` among the roots takes everything. Oldest first.
 */
export function subtree<T>(roots: Iterable<string>, ordered: Iterable<T>, node: (item: T) => Node = (item) => item as Node): T[] {
  const inside = new Set(roots);
  const found: T[] = [];
  for (const item of ordered) {
    const message = node(item);
    if (inside.has(message.id) || inside.has(parentKey(message))) {
      inside.add(message.id);
      found.push(item);
    }
  }
  return found;
}

/**
 * The newest leaf under `id` (`ROOT`: in the whole tree): the newest message added under it — nothing is ever added
 * under a message after its children, so that one is a leaf — or `id` itself.
 */
export const newestUnder = <T>(id: string, ordered: Iterable<T>, node?: (item: T) => Node): T | undefined => subtree([id], ordered, node).at(-1);

/** The forks of a whole tree given oldest first (an import, a document): every parent with more than one child. */
export function forksOf(ordered: Iterable<Node>): Forks | undefined {
  const children = new Map<string, string[]>();
  for (const m of ordered) {
    const key = parentKey(m);
    const ids = children.get(key);
    if (ids) ids.push(m.id);
    else children.set(key, [m.id]);
  }
  let forks: Forks | undefined;
  for (const [parent, ids] of children) if (ids.length > 1) (forks ??= {})[parent] = ids;
  return forks;
}

/** The path from a first message to `leaf`, oldest first, through `byId` (every message of the tree). */
export function pathTo<T extends Node>(leaf: string | undefined, byId: ReadonlyMap<string, T>): T[] {
  const path: T[] = [];
  for (let m = leaf === undefined ? undefined : byId.get(leaf); m; m = m.parentId == null ? undefined : byId.get(m.parentId)) path.push(m);
  return path.reverse();
}
