// Fast paths, counted rather than timed: opening a long conversation reads one page of records, and a list
// page reads one page of conversations and no messages.
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import type { MessageJSON } from "../../../src/messages/json.ts";
import { dbName, makeStore, raw } from "./helpers.ts";

// Count what IndexedDB hands out. Installed before anything here opens a cursor: idb remembers the cursor
// methods it wraps on first use.
const reads = { continue: 0, messages: new Set<string>(), conversations: new Set<string>(), getAll: [] as string[] };
const cursor = IDBCursor.prototype as unknown as { continue(...a: unknown[]): void };
const continueCursor = cursor.continue;
cursor.continue = function (this: IDBCursor, ...args: unknown[]) {
  reads.continue++;
  return continueCursor.apply(this, args);
};
// fake-indexeddb structured-clones every value it returns (and every value written): the distinct records cloned.
const clone = globalThis.structuredClone;
globalThis.structuredClone = ((value: unknown, options?: StructuredSerializeOptions) => {
  if (value && typeof value === "object") {
    const record = value as { conversationId?: string; seq?: number; id?: string };
    if ("seq" in record && "message" in record) reads.messages.add(`${record.conversationId}/${record.seq}`);
    else if ("nextSeq" in record) reads.conversations.add(record.id!);
  }
  return clone(value, options);
}) as typeof structuredClone;
for (const proto of [IDBObjectStore.prototype, IDBIndex.prototype] as unknown as { getAll(...a: unknown[]): unknown; name: string }[]) {
  const getAll = proto.getAll;
  proto.getAll = function (this: { name: string }, ...args: unknown[]) {
    reads.getAll.push(this.name);
    return getAll.apply(this, args);
  };
}
const counting = async <T>(fn: () => Promise<T>) => {
  Object.assign(reads, { continue: 0, messages: new Set(), conversations: new Set(), getAll: [] });
  const result = await fn();
  return { result, reads: { ...reads, messages: reads.messages.size, conversations: reads.conversations.size } };
};

const messages = (n: number, prefix = "m"): MessageJSON[] =>
  Array.from({ length: n }, (_, i) =>
    i % 2 ? { id: `${prefix}${i}`, role: "assistant", content: `reply ${i}`, status: "complete", createdAt: i } : { id: `${prefix}${i}`, role: "user", content: `question ${i}`, createdAt: i },
  );
const doc = (id: string, msgs: MessageJSON[]) => ({ format: "edgechat.conversation", version: 1, id, model: "m", createdAt: 1, messages: msgs });

describe("IndexedDB store: reads only what a page needs", () => {
  it("opening a 10 000-message conversation reads the newest 50 records, not the other 9 950", async () => {
    const store = makeStore();
    await store.import(doc("long", messages(10_000)));
    expect((await store.get("long"))?.messageCount).toBe(10_000);

    const first = await counting(() => store.loadMessages("long"));
    expect(first.result.messages.map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => `m${9950 + i}`));
    expect(first.result.before).toBe(9950);
    // The page (the leaf, then the 49 records below it, read newest first in one cursor, each the parent of the one
    // before), and the one record that shows an older page exists.
    expect(first.reads.messages).toBe(51);
    expect(first.reads.continue).toBe(49);
    expect(first.reads.getAll).toEqual([]);

    const second = await counting(() => store.loadMessages("long", { before: first.result.before! }));
    expect(second.result.messages[0]!.id).toBe("m9900");
    expect(second.reads.messages).toBe(51);
    expect(second.reads.continue).toBe(49);
  });

  it("listing 1 000 conversations reads one page of conversations per call and none of their messages", async () => {
    // 1 000 imports would be 1 000 transactions (4 s on fake-indexeddb): write the same records in one.
    const name = dbName("thousand");
    const store = makeStore({ name });
    await store.list();
    const db = await raw(name);
    const tx = db.transaction(["conversations", "messages"], "readwrite");
    const usage = { promptTokens: 0, completionTokens: 0, cost: 0 };
    await Promise.all([
      ...Array.from({ length: 1000 }, (_, i) => [
        tx.objectStore("conversations").add({ id: `c${i}`, title: `c${i}`, model: "m", createdAt: i, updatedAt: 1000 + i, messageCount: 1, usage, nextSeq: 1 }),
        tx.objectStore("messages").add({ conversationId: `c${i}`, seq: 0, message: { id: "m", role: "user", content: "hi", createdAt: i }, images: [] }),
      ]).flat(),
      tx.done,
    ]);
    db.close();

    const first = await counting(() => store.list());
    expect(first.result.conversations.map((c) => c.id)).toEqual(Array.from({ length: 50 }, (_, i) => `c${999 - i}`));
    expect(first.reads.conversations).toBe(51);
    expect(first.reads.messages).toBe(0);
    expect(first.reads.continue).toBe(50);
    expect(first.reads.getAll).toEqual([]);

    // Every conversation once, newest first, 100 per page.
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await counting(() => store.list({ limit: 100, ...(cursor !== undefined && { cursor }) }));
      expect(page.reads.messages).toBe(0);
      expect(page.reads.conversations).toBeLessThanOrEqual(101);
      seen.push(...page.result.conversations.map((c) => c.id));
      cursor = page.result.next;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(10);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => `c${999 - i}`));
  });

  it("appending to a long conversation is one small transaction: it reads no other message", async () => {
    const store = makeStore();
    await store.import(doc("long", messages(2_000)));
    const append = await counting(() => store.appendMessage("long", { id: "new", role: "user", content: "hi", createdAt: 1 }));
    expect(append.reads.messages).toBe(1); // only the record it writes (cloned on the way in)
    expect(append.reads.continue).toBe(0);
    expect(append.reads.getAll).toEqual([]);
    const update = await counting(() => store.updateMessage("long", { id: "m1999", role: "assistant", content: "edited", status: "complete", createdAt: 1 }));
    expect(update.reads.messages).toBe(1); // only the record it replaces (read, then written)
    expect(update.reads.continue).toBe(0);
  });

  it("a bad list cursor is a RangeError (the contract's rule)", async () => {
    const store = makeStore();
    await expect(store.list({ cursor: "not a cursor" })).rejects.toThrow(RangeError);
  });
});
