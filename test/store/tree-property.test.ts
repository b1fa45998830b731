// Property test of the tree: random sequences of send, edit, regenerate, switch and delete, checked after every step
// against a model of the tree kept here — the active path well formed, every version reachable, nothing lost.
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { rng } from "../helpers/chunking.ts";
import type { Message } from "../../src/messages/types.ts";
import { createIndexedDBStore } from "../../src/store/idb/store.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { ConversationStore } from "../../src/store/types.ts";

interface Node {
  id: string;
  role: "user" | "assistant";
  parent: string | undefined;
}

class Model {
  readonly nodes = new Map<string, Node>();
  leaf: string | undefined;
  children = (id: string | undefined) => [...this.nodes.values()].filter((n) => n.parent === id);
  path(leaf = this.leaf): Node[] {
    const path: Node[] = [];
    for (let n = leaf === undefined ? undefined : this.nodes.get(leaf); n; n = n.parent === undefined ? undefined : this.nodes.get(n.parent)) path.unshift(n);
    return path;
  }
  /** In the order added: the newest under `id` is the last one whose ancestors include it. */
  newestUnder(id: string): string {
    let newest = id;
    for (const n of this.nodes.values()) if (this.path(n.id).some((p) => p.id === id)) newest = n.id;
    return newest;
  }
  add(node: Node): void {
    this.nodes.set(node.id, node);
    this.leaf = node.id;
  }
  remove(id: string): void {
    const gone = new Set([id]);
    for (const n of this.nodes.values()) if (n.parent !== undefined && gone.has(n.parent)) gone.add(n.id);
    if (this.leaf !== undefined && gone.has(this.leaf)) {
      let up = this.nodes.get(this.leaf)!.parent;
      while (up !== undefined && gone.has(up)) up = this.nodes.get(up)!.parent;
      for (const g of gone) this.nodes.delete(g);
      this.leaf = up === undefined ? [...this.nodes.keys()].at(-1) : this.newestUnder(up);
    } else for (const g of gone) this.nodes.delete(g);
  }
}

const message = (node: Node, n: number): Message =>
  node.role === "user"
    ? { id: node.id, role: "user", content: `q${n}`, createdAt: n, parentId: node.parent ?? null }
    : { id: node.id, role: "assistant", content: `a${n}`, status: "complete", createdAt: n, parentId: node.parent ?? null };

async function check(store: ConversationStore, id: string, model: Model, what: string): Promise<void> {
  const meta = (await store.get(id))!;
  const expected = model.path();
  const path = (await store.loadMessages(id, { limit: Infinity })).messages;
  expect(path.map((m) => m.id), `${what}: the active path`).toEqual(expected.map((n) => n.id));
  expect(meta.activeLeaf, `${what}: the active leaf`).toBe(model.leaf);
  expect(meta.messageCount, `${what}: count`).toBe(model.nodes.size);
  if (model.leaf !== undefined) expect(model.children(model.leaf), `${what}: the active leaf is a leaf`).toEqual([]);
  // Well formed: starts with a user message, then user and assistant take turns.
  path.forEach((m, i) => expect(m.role, `${what}: role at ${i}`).toBe(i % 2 ? "assistant" : "user"));
  // Every fork lists exactly the children of its parent, oldest first; nothing else is a fork.
  for (const m of path) {
    const siblings = model.children(model.nodes.get(m.id)!.parent).map((n) => n.id);
    expect(meta.forks?.[m.parentId ?? ""] ?? [m.id], `${what}: the versions of ${m.id}`).toEqual(siblings);
  }
  // Every message is stored (reachable by a switch: checked on a sample, as switches write).
  expect(((await store.export(id)).messages.map((m) => m.id) as string[]).sort(), `${what}: every version stored`).toEqual([...model.nodes.keys()].sort());
}

async function run(store: ConversationStore, seed: number, steps: number): Promise<void> {
  const next = rng(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(next() * items.length)];
  const { id } = await store.create({ model: "m" });
  const model = new Model();
  let n = 0;
  const add = async (node: Node) => {
    await store.appendMessage(id, message(node, n++));
    model.add(node);
  };
  for (let step = 0; step < steps; step++) {
    const path = model.path();
    const roll = next();
    let what: string;
    if (roll < 0.3 || path.length === 0) {
      // send: a question and its answer after the leaf (a leaf that is a question gets its answer first)
      what = "send";
      if (path.at(-1)?.role !== "user") await add({ id: `u${n}`, role: "user", parent: model.leaf });
      await add({ id: `a${n}`, role: "assistant", parent: model.leaf });
    } else if (roll < 0.5) {
      const old = pick(path.filter((m) => m.role === "user"))!;
      what = `edit ${old.id}`;
      await add({ id: `u${n}`, role: "user", parent: old.parent });
      await add({ id: `a${n}`, role: "assistant", parent: model.leaf });
    } else if (roll < 0.7) {
      const old = pick(path.filter((m) => m.role === "assistant"))!;
      what = `regenerate ${old.id}`;
      await add({ id: `a${n}`, role: "assistant", parent: old.parent });
    } else if (roll < 0.9) {
      const target = pick([...model.nodes.keys()])!;
      what = `switch to ${target}`;
      const leaf = await store.switchTo(id, target);
      model.leaf = model.newestUnder(target);
      expect(leaf, what).toBe(model.leaf);
    } else {
      const target = pick([...model.nodes.values()].filter((m) => m.role === "user"))!;
      what = `delete ${target.id}`;
      await store.removeMessages(id, [target.id]);
      model.remove(target.id);
    }
    await check(store, id, model, `seed ${seed}, step ${step} (${what})`);
  }
}

const stores: [string, () => ConversationStore, number][] = [
  ["memory", createMemoryStore, 60],
  ["IndexedDB (fake-indexeddb)", () => createIndexedDBStore({ name: `tree-property-${Math.random()}` }), 12],
];

describe.each(stores)("the tree under random send, edit, regenerate, switch and delete: %s", (_name, make, sequences) => {
  it(`${sequences} random sequences of 40 steps keep the active path well formed and every version stored`, async () => {
    for (let seed = 1; seed <= sequences; seed++) await run(make(), seed, 40);
  }, 60_000);
});
