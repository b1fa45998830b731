// The IndexedDB store's read paths against random and adversarial records written straight into the
// database (what a bug, an old version or a hostile extension could leave): list, get, loadMessages and
// export must keep serving the good records exactly, report the bad ones, never throw anything but a
// StorageError, and never pollute a prototype.
import "fake-indexeddb/auto";
import fc from "fast-check";
import { openDB } from "idb";
import { expect, it } from "vitest";
import type { Message } from "../../src/messages/types.ts";
import { StorageError } from "../../src/store/errors.ts";
import { createIndexedDBStore } from "../../src/store/idb/index.ts";
import type { Schema } from "../../src/store/idb/schema.ts";

const hostile = fc.oneof(
  fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": "yes"}, "role": "user", "id": "x"}')),
  fc.constant(JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}')),
  fc.record({ id: fc.string(), role: fc.constantFrom("user", "assistant", "system", "tool"), content: fc.anything({ maxDepth: 2 }), createdAt: fc.anything({ maxDepth: 1 }) }),
  fc.constant({ id: "m", role: "user", content: [{ type: "image", hash: "0".repeat(64), mimeType: "image/png" }], createdAt: 1 }),
  fc.constant("x".repeat(100_000)),
);

let run = 0;

it("reads past any garbage in the database, serving the good records exactly", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom("message", "conversation"), hostile), { minLength: 1, maxLength: 6 }), async (junk) => {
      const name = `fuzz-read-${run++}`;
      const reported: unknown[] = [];
      const store = createIndexedDBStore({ name, onCorrupt: (r) => reported.push(r.key) });
      try {
        const { id } = await store.create({ model: "m", id: "good", title: "good" });
        const sent: Message[] = [
          { id: "u1", role: "user", content: "hello", createdAt: 1 },
          { id: "a1", role: "assistant", content: "hi", status: "complete", createdAt: 2, parentId: "u1" },
        ];
        for (const m of sent) await store.appendMessage(id, m);

        const db = await openDB<Schema>(name);
        let seq = 100;
        for (const [kind, value] of junk) {
          // Junk the database itself refuses (a duplicate id under the unique index) is simply not there.
          const record = kind === "message" ? { conversationId: id, seq: seq++, message: value } : typeof value === "object" && value !== null ? { ...value, id: `junk-${seq++}` } : { id: `junk-${seq++}`, value };
          await db.put(kind === "message" ? "messages" : "conversations", record as never).catch(() => {});
        }
        db.close();

        const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await fn();
          } catch (error) {
            expect(error, String(error).slice(0, 200)).toBeInstanceOf(StorageError);
            return undefined;
          }
        };
        const listed = await attempt(() => store.list({ limit: 100 }));
        if (listed) expect(listed.conversations.some((c) => c.id === "good" && c.title === "good")).toBe(true);
        expect((await attempt(() => store.get("good")))?.messageCount).toBeGreaterThanOrEqual(2);
        const page = await attempt(() => store.loadMessages(id, { limit: 100 }));
        expect(page?.messages.filter((m) => m.id === "u1" || m.id === "a1")).toEqual(sent);
        const exported = await attempt(() => store.export(id));
        expect(exported?.messages.filter((m) => m.id === "u1" || m.id === "a1").map((m) => m.content)).toEqual(["hello", "hi"]);
        for (let i = 0; i < 3; i++) await attempt(() => store.loadMessages(id, { limit: 1, before: 100 + i }));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      } finally {
        store.close();
      }
    }),
    { numRuns: 150, seed: 8 },
  );
}, 120_000);
