// A database written by schema version 1 (with data) opens under the current version with every record intact.
import "fake-indexeddb/auto";
import { openDB } from "idb";
import { describe, expect, it } from "vitest";
import { type ConversationRecord, type ImageRecord, type MessageRecord, type Schema, v1, VERSION } from "../../../src/store/idb/schema.ts";
import { all, dbName, makeStore, pixels, sameBytes, sha256 } from "./helpers.ts";

const usage0 = { promptTokens: 0, completionTokens: 0, cost: 0 };

/** What version 1 of the store wrote: the same records, no `images` list on messages, `refs` on images. */
function v1Data() {
  const photo = pixels(5000, 13);
  const hash = sha256(photo);
  const conversations: ConversationRecord[] = [
    { id: "trip", title: "Trip", model: "m", createdAt: 100, updatedAt: 300, messageCount: 2, usage: { promptTokens: 5, completionTokens: 1, cost: 0.01 }, nextSeq: 3, calibration: { text: 1.1, image: 0.9, samples: 2 } },
    { id: "cats", title: "Cats", model: "m", system: "be brief", createdAt: 150, updatedAt: 400, messageCount: 1, usage: usage0, nextSeq: 1 },
    { id: "empty", title: "", model: "m", createdAt: 50, updatedAt: 50, messageCount: 0, usage: usage0, nextSeq: 0 },
  ];
  const messages: MessageRecord[] = [
    // seq 1 was removed in v1: the gap must survive.
    { conversationId: "trip", seq: 0, message: { id: "u1", role: "user", createdAt: 101, content: [{ type: "text", text: "look" }, { type: "image", hash, mimeType: "image/png", width: 40, height: 30 }] } },
    { conversationId: "trip", seq: 2, message: { id: "a1", role: "assistant", createdAt: 102, content: "nice", status: "complete", usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, estimated_cost: 0.01 }, pinned: true } },
    { conversationId: "cats", seq: 0, message: { id: "u2", role: "user", createdAt: 151, content: [{ type: "image", hash, mimeType: "image/png" }, { type: "image", url: "https://example.com/cat.jpg" }] } },
  ];
  const images: ImageRecord[] = [{ hash, blob: new Blob([photo], { type: "image/png" }), refs: 2 }];
  return { photo, hash, conversations, messages, images };
}

async function writeV1(name: string, data: ReturnType<typeof v1Data>) {
  const db = await openDB<Schema>(name, 1, { upgrade: (db) => v1(db) });
  const tx = db.transaction(["conversations", "messages", "images"], "readwrite");
  await Promise.all([
    ...data.conversations.map((c) => tx.objectStore("conversations").put(c)),
    ...data.messages.map((m) => tx.objectStore("messages").put(m)),
    ...data.images.map((i) => tx.objectStore("images").put(i)),
    tx.done,
  ]);
  expect([...db.objectStoreNames].sort()).toEqual(["conversations", "images", "messages"]);
  expect([...db.transaction("conversations").store.indexNames]).toEqual([]);
  db.close();
}

describe("IndexedDB schema migration", () => {
  it("the current schema is version 2", () => expect(VERSION).toBe(2));

  it("v1 → v2: every record intact, the new indexes built, and the store works on the old data", async () => {
    const name = dbName("v1");
    const data = v1Data();
    await writeV1(name, data);

    const store = makeStore({ name });
    // The first call opens (and upgrades) the database; listing already uses v2's index.
    expect((await store.list()).conversations.map((c) => c.id)).toEqual(["cats", "trip", "empty"]);

    const db = await openDB<Schema>(name);
    expect(db.version).toBe(2);
    const tx = db.transaction(["conversations", "messages"]);
    expect([...tx.objectStore("conversations").indexNames]).toEqual(["updated"]);
    expect([...tx.objectStore("messages").indexNames].sort()).toEqual(["id", "images"]);
    expect(await tx.objectStore("messages").index("images").getAllKeys(data.hash)).toEqual([["cats", 0], ["trip", 0]]);
    db.close();

    // Raw records: conversations and images untouched; messages gained only their `images` list.
    const after = await all(name);
    expect(after.conversations).toEqual([...data.conversations].sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(after.images.map(({ hash, refs }) => ({ hash, refs }))).toEqual([{ hash: data.hash, refs: 2 }]);
    expect(sameBytes(new Uint8Array(await after.images[0]!.blob.arrayBuffer()), data.photo)).toBe(true);
    expect(after.messages).toEqual(
      [data.messages[2]!, data.messages[0]!, data.messages[1]!].map((m) => (m.message.role === "user" ? { ...m, images: [data.hash] } : m)),
    );

    // Through the store: metas, messages with their image bytes, paging over the seq gap.
    const { nextSeq: _, ...tripMeta } = data.conversations[0]!;
    expect(await store.get("trip")).toEqual(tripMeta);
    const trip = await store.loadMessages("trip", { limit: 1 });
    expect(trip.messages.map((m) => m.id)).toEqual(["a1"]);
    expect(trip.before).toBe(2);
    const older = await store.loadMessages("trip", { limit: 1, before: trip.before! });
    const [u1] = older.messages;
    const [text, image] = u1!.content as [unknown, { data: Uint8Array }];
    expect(sameBytes(image.data, data.photo)).toBe(true);
    expect({ ...u1, content: [text, { ...image, data: "bytes" }] }).toEqual({ ...data.messages[0]!.message, content: [{ type: "text", text: "look" }, { type: "image", data: "bytes", mimeType: "image/png", width: 40, height: 30 }] });
    expect(older.before).toBeUndefined();

    // New appends continue from v1's nextSeq.
    await store.appendMessage("trip", { id: "u3", role: "user", createdAt: 500, content: "more" });
    expect((await all(name)).messages.filter((m) => m.conversationId === "trip").map((m) => m.seq)).toEqual([0, 2, 3]);

    // v1's images are released through v2's index: kept while another conversation uses them.
    await store.delete("trip");
    expect((await all(name)).images.map((i) => i.hash)).toEqual([data.hash]);
    await store.delete("cats");
    expect((await all(name)).images).toEqual([]);
    expect((await store.list()).conversations.map((c) => c.id)).toEqual(["empty"]);
  });

  it("a new database is created at the current version, every step applied", async () => {
    const name = dbName("fresh");
    await makeStore({ name }).create({ model: "m", id: "x" });
    const db = await openDB<Schema>(name);
    expect(db.version).toBe(VERSION);
    expect([...db.transaction("conversations").store.indexNames]).toEqual(["updated"]);
    expect([...db.transaction("messages").store.indexNames].sort()).toEqual(["id", "images"]);
    db.close();
  });
});
