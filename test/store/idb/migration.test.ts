// Databases written by earlier schema versions (with data) open under the current version with every record
// intact: v1 (the first release), v2 (indexes for listing and images) and, since v3, conversations as trees.
import "fake-indexeddb/auto";
import { openDB } from "idb";
import { describe, expect, it } from "vitest";
import type { Message } from "../../../src/messages/types.ts";
import { StorageError } from "../../../src/store/errors.ts";
import { type ConversationRecord, type ImageRecord, type MessageRecord, type Schema, v1, v2, VERSION } from "../../../src/store/idb/schema.ts";
import type { IndexedDBStore } from "../../../src/store/idb/index.ts";
import { all, dbName, makeStore, pixels, sameBytes, sha256 } from "./helpers.ts";

const usage0 = { promptTokens: 0, completionTokens: 0, cost: 0 };
const byId = <T extends { id: string }>(records: T[]) => [...records].sort((a, b) => (a.id < b.id ? -1 : 1));

/** What versions 1 and 2 of the store wrote: lists of messages, no `parentId`, no `activeLeaf`. */
function oldData(version: 1 | 2) {
  const photo = pixels(5000, 13);
  const hash = sha256(photo);
  const conversations: ConversationRecord[] = [
    { id: "trip", title: "Trip", model: "m", createdAt: 100, updatedAt: 300, messageCount: 3, usage: { promptTokens: 5, completionTokens: 1, cost: 0.01 }, nextSeq: 4, calibration: { text: 1.1, image: 0.9, samples: 2 } },
    { id: "cats", title: "Cats", model: "m", system: "be brief", createdAt: 150, updatedAt: 400, messageCount: 1, usage: usage0, nextSeq: 1 },
    { id: "empty", title: "", model: "m", createdAt: 50, updatedAt: 50, messageCount: 0, usage: usage0, nextSeq: 0 },
  ];
  const messages: MessageRecord[] = [
    // seq 1 was removed: the gap must survive.
    { conversationId: "trip", seq: 0, message: { id: "u1", role: "user", createdAt: 101, content: [{ type: "text", text: "look" }, { type: "image", hash, mimeType: "image/png", width: 40, height: 30 }] } },
    { conversationId: "trip", seq: 2, message: { id: "a1", role: "assistant", createdAt: 102, content: "nice", status: "complete", usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, estimated_cost: 0.01 }, pinned: true } },
    { conversationId: "trip", seq: 3, message: { id: "u2", role: "user", createdAt: 103, content: "and this?" } },
    { conversationId: "cats", seq: 0, message: { id: "u3", role: "user", createdAt: 151, content: [{ type: "image", hash, mimeType: "image/png" }, { type: "image", url: "https://example.com/cat.jpg" }] } },
  ];
  // v2 lists each message's image hashes on its record; v1 counted an image's users on the image instead.
  if (version === 2) for (const m of messages) m.images = m.message.role === "user" && Array.isArray(m.message.content) ? [hash] : [];
  const images: ImageRecord[] = [{ hash, blob: new Blob([photo], { type: "image/png" }), ...(version === 1 && { refs: 2 }) }];
  return { photo, hash, conversations, messages, images };
}
type OldData = ReturnType<typeof oldData>;

/** A database at `version`, created by that version's steps, holding `data` as that version wrote it. */
async function writeOld(name: string, version: 1 | 2, data: OldData) {
  const db = await openDB<Schema>(name, version, {
    upgrade(db, _from, _to, tx) {
      v1(db);
      if (version === 2) void v2(tx);
    },
  });
  const tx = db.transaction(["conversations", "messages", "images"], "readwrite");
  await Promise.all([
    ...data.conversations.map((c) => tx.objectStore("conversations").put(c)),
    ...data.messages.map((m) => tx.objectStore("messages").put(m)),
    ...data.images.map((i) => tx.objectStore("images").put(i)),
    tx.done,
  ]);
  db.close();
}

/** The v3 records expected from old ones: each message after the one before it in its conversation, the last active. */
function migrated(data: OldData) {
  const messages = data.messages.map((m, i) => {
    const prior = data.messages[i - 1];
    const message = prior?.conversationId === m.conversationId ? { ...m.message, parentId: prior.message.id } : m.message;
    return { ...m, message, images: m.message.role === "user" && Array.isArray(m.message.content) ? [data.hash] : [] };
  });
  const leaves: Record<string, string> = { trip: "u2", cats: "u3" };
  const conversations = data.conversations.map((c) => (leaves[c.id] ? { ...c, activeLeaf: leaves[c.id]! } : c));
  return { messages, conversations };
}

/** Records as the tests compare them: v1's messages without images have no `images` list (v2 adds only lists it finds). */
const withoutEmptyImages = (r: MessageRecord) => (r.images?.length === 0 ? (({ images: _, ...rest }) => rest)(r) : r);

/** The store works on the migrated data: the path, its images, and the tree (a reply, a new version, a switch). */
async function treeWorks(store: IndexedDBStore, name: string, data: OldData) {
  const { nextSeq: _, ...tripMeta } = data.conversations[0]!;
  expect(await store.get("trip")).toEqual({ ...tripMeta, activeLeaf: "u2" });
  expect(await store.get("empty")).toEqual((({ nextSeq: _, ...meta }) => meta)(data.conversations[2]!));

  // The path, paged over the seq gap, with the image's bytes.
  const newest = await store.loadMessages("trip", { limit: 2 });
  expect(newest.messages.map((m) => [m.id, m.parentId])).toEqual([
    ["a1", "u1"],
    ["u2", "a1"],
  ]);
  const older = await store.loadMessages("trip", { limit: 2, before: newest.before! });
  expect(older.before).toBeUndefined();
  const [u1] = older.messages;
  const [text, image] = u1!.content as [unknown, { data: Uint8Array }];
  expect(sameBytes(image.data, data.photo)).toBe(true);
  expect({ ...u1, content: [text, { ...image, data: "bytes" }] }).toEqual({ ...data.messages[0]!.message, content: [{ type: "text", text: "look" }, { type: "image", data: "bytes", mimeType: "image/png", width: 40, height: 30 }] });
  expect((await store.loadMessages("cats")).messages.map((m) => m.id)).toEqual(["u3"]);

  // A reply follows the active leaf; a new version of it forks; a switch goes back to the first. Seqs go on from nextSeq.
  const reply = (id: string, parentId?: string): Message => ({ id, role: "assistant", createdAt: 500, content: id, status: "complete", ...(parentId && { parentId }) });
  await store.appendMessage("trip", reply("a2"));
  await store.appendMessage("trip", reply("a2b", "u2"));
  expect(await store.get("trip")).toMatchObject({ messageCount: 5, activeLeaf: "a2b", forks: { u2: ["a2", "a2b"] } });
  expect((await store.loadMessages("trip")).messages.map((m) => m.id)).toEqual(["u1", "a1", "u2", "a2b"]);
  expect(await store.switchTo("trip", "a2")).toBe("a2");
  expect((await store.loadMessages("trip")).messages.map((m) => m.id)).toEqual(["u1", "a1", "u2", "a2"]);
  expect((await all(name)).messages.filter((m) => m.conversationId === "trip").map((m) => m.seq)).toEqual([0, 2, 3, 4, 5]);
  // A message migrated into a line can be edited: a new first message.
  await store.appendMessage("cats", { id: "u3b", role: "user", createdAt: 600, content: "dogs?", parentId: null });
  expect(await store.get("cats")).toMatchObject({ activeLeaf: "u3b", forks: { "": ["u3", "u3b"] } });

  // Old images are released through v2's index: kept while another conversation uses them.
  await store.delete("trip");
  expect((await all(name)).images.map((i) => i.hash)).toEqual([data.hash]);
  await store.delete("cats");
  expect((await all(name)).images).toEqual([]);
}

describe("IndexedDB schema migration", () => {
  it("the current schema is version 3", () => expect(VERSION).toBe(3));

  it("v1 → v3: every record intact, the indexes built, each conversation a line, and the tree works on the old data", async () => {
    const name = dbName("v1");
    const data = oldData(1);
    await writeOld(name, 1, data);

    const store = makeStore({ name });
    // The first call opens (and upgrades) the database; listing already uses v2's index.
    expect((await store.list()).conversations.map((c) => c.id)).toEqual(["cats", "trip", "empty"]);

    const db = await openDB<Schema>(name);
    expect(db.version).toBe(3);
    const tx = db.transaction(["conversations", "messages"]);
    expect([...tx.objectStore("conversations").indexNames]).toEqual(["updated"]);
    expect([...tx.objectStore("messages").indexNames].sort()).toEqual(["id", "images"]);
    expect(await tx.objectStore("messages").index("images").getAllKeys(data.hash)).toEqual([["cats", 0], ["trip", 0]]);
    db.close();

    // Raw records: images untouched (v1's `refs` stay); messages gained their `images` list and their parent;
    // conversations their active leaf.
    const after = await all(name);
    const expected = migrated(data);
    expect(after.conversations).toEqual(byId(expected.conversations));
    expect(after.images.map(({ hash, refs }) => ({ hash, refs }))).toEqual([{ hash: data.hash, refs: 2 }]);
    expect(sameBytes(new Uint8Array(await after.images[0]!.blob.arrayBuffer()), data.photo)).toBe(true);
    const [u1, a1, u2, u3] = expected.messages.map(withoutEmptyImages);
    expect(after.messages).toEqual([u3, u1, a1, u2]);

    await treeWorks(store, name, data);
  });

  it("v2 → v3: every record intact, each conversation a line, and the tree works on the old data", async () => {
    const name = dbName("v2");
    const data = oldData(2);
    await writeOld(name, 2, data);

    const store = makeStore({ name });
    expect((await store.list()).conversations.map((c) => c.id)).toEqual(["cats", "trip", "empty"]);
    const after = await all(name);
    const expected = migrated(data);
    expect(after.conversations).toEqual(byId(expected.conversations));
    const [u1, a1, u2, u3] = expected.messages;
    expect(after.messages).toEqual([u3, u1, a1, u2]);
    expect(after.images.length).toBe(1);
    expect(sameBytes(new Uint8Array(await after.images[0]!.blob.arrayBuffer()), data.photo)).toBe(true);

    await treeWorks(store, name, data);
  });

  it("v2 → v3 leaves a corrupt record as it was and links the line around it", async () => {
    const name = dbName("v2-corrupt");
    const data = oldData(2);
    data.messages.splice(2, 0, { conversationId: "trip", seq: 1, message: "garbage" } as never);
    await writeOld(name, 2, data);

    const store = makeStore({ name, onCorrupt: () => {} });
    expect((await store.loadMessages("trip")).messages.map((m) => [m.id, m.parentId])).toEqual([
      ["u1", undefined],
      ["a1", "u1"],
      ["u2", "a1"],
    ]);
    expect((await all(name)).messages.find((m) => m.seq === 1 && m.conversationId === "trip")).toEqual(data.messages[2]);
  });

  it("a migration that fails leaves the database as it was, and the next open migrates it", async () => {
    const name = dbName("v2-fails");
    const data = oldData(2);
    await writeOld(name, 2, data);
    const before = await all(name);

    // The disk fails while v3 rewrites the messages.
    const cursor = IDBCursor.prototype as unknown as { update(...a: unknown[]): unknown };
    const update = cursor.update;
    cursor.update = () => {
      throw new DOMException("The disk failed.", "UnknownError");
    };
    try {
      const failed = makeStore({ name });
      await expect(failed.list()).rejects.toBeInstanceOf(StorageError);
      failed.close();
    } finally {
      cursor.update = update;
    }
    const db = await openDB<Schema>(name);
    expect(db.version).toBe(2);
    db.close();
    expect(await all(name)).toEqual(before);

    const store = makeStore({ name });
    expect(await store.get("trip")).toMatchObject({ activeLeaf: "u2" });
    expect((await store.loadMessages("trip")).messages.map((m) => m.id)).toEqual(["u1", "a1", "u2"]);
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
