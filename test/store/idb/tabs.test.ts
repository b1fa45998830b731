// Several tabs on one database: two store instances stand in for two tabs (separate connections and channels).
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import type { UserMessage } from "../../../src/messages/types.ts";
import type { StoreChange } from "../../../src/store/types.ts";
import { all, dbName, makeStore, until } from "./helpers.ts";

const msg = (id: string): UserMessage => ({ id, role: "user", createdAt: 1, content: id });

describe("IndexedDB store: several tabs", () => {
  it("two instances appending to one conversation at once lose nothing and duplicate nothing", async () => {
    const name = dbName("tabs");
    const [a, b] = [makeStore({ name }), makeStore({ name })];
    const { id } = await a.create({ model: "m" });
    const sent = Array.from({ length: 60 }, (_, i) => msg(`${i % 2 ? "b" : "a"}${i}`));
    await Promise.all(sent.map((m) => (m.id.startsWith("a") ? a : b).appendMessage(id, m)));

    for (const store of [a, b]) {
      const stored = (await store.loadMessages(id, { limit: 1000 })).messages.map((m) => m.id);
      expect(stored.length).toBe(60);
      expect([...stored].sort()).toEqual(sent.map((m) => m.id).sort());
      // Each tab's own appends keep their order.
      expect(stored.filter((s) => s.startsWith("a"))).toEqual(sent.filter((m) => m.id.startsWith("a")).map((m) => m.id));
    }
    expect((await b.get(id))?.messageCount).toBe(60);
    expect((await all(name)).messages.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it("changes are announced on a BroadcastChannel to the other instances, not to the one that made them", async () => {
    const name = dbName("broadcast");
    const [a, b] = [makeStore({ name }), makeStore({ name })];
    const seenByA: StoreChange[] = [];
    const seenByB: StoreChange[] = [];
    a.onChange((c) => seenByA.push(c));
    const stop = b.onChange((c) => seenByB.push(c));

    const { id } = await a.create({ model: "m" });
    await a.appendMessage(id, msg("x"));
    await a.rename(id, "Renamed");
    await until(() => seenByB.length === 3, 2000, "three changes in b");
    expect(seenByB).toEqual([
      { id, kind: "create" },
      { id, kind: "append" },
      { id, kind: "rename" },
    ]);
    // The other tab reloads what changed.
    expect((await b.get(id))?.title).toBe("Renamed");

    await b.delete(id);
    await until(() => seenByA.length === 1, 2000, "the delete in a");
    expect(seenByA).toEqual([{ id, kind: "delete" }]);

    // A failed call announces nothing; an unsubscribed listener hears nothing.
    stop();
    await expect(a.rename(id, "ghost")).rejects.toThrow();
    await a.create({ model: "m", id: "later" });
    await new Promise((r) => setTimeout(r, 50));
    expect(seenByB).toHaveLength(3);
  });

  it("a store on another database hears nothing", async () => {
    const a = makeStore({ name: dbName("one") });
    const b = makeStore({ name: dbName("two") });
    const heard: StoreChange[] = [];
    b.onChange((c) => heard.push(c));
    await a.create({ model: "m" });
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([]);
  });

  it("without Web Locks (Node 20 has none) the lock holds within this realm: store instances on one database share it", async () => {
    expect(globalThis.navigator?.locks).toBeUndefined();
    const name = dbName("no-web-locks");
    const [a, b] = [makeStore({ name }), makeStore({ name })];
    const events: string[] = [];
    const hold = (store: typeof a, who: string) =>
      store.lockConversation("c1", async () => {
        events.push(`${who} in`);
        await new Promise((r) => setTimeout(r, 20));
        events.push(`${who} out`);
      });
    await Promise.all([hold(a, "a"), hold(b, "b"), a.lockConversation("c2", () => events.push("c2"))]);
    expect(events.filter((e) => e !== "c2")).toEqual(["a in", "a out", "b in", "b out"]);
    expect(events.indexOf("c2")).toBeLessThan(events.indexOf("a out"));
    expect(await a.lockConversation("c3", () => b.isConversationLocked("c3"))).toBe(true);
    expect(await b.isConversationLocked("c3")).toBe(false);
  });
});
