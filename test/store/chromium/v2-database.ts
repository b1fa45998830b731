// Runs in Chromium (bundled into page.ts): a database as schema version 2 wrote it, made with the browser's raw
// IndexedDB API (not the store's own upgrade code, which is what is tested), then opened by the current store: the v3
// migration on real data, in a real browser. Returns what it saw, for idb.test.ts to check.
import { createIndexedDBStore } from "../../../src/store/idb/index.ts";
import type { Message } from "../../../src/messages/types.ts";
import type { ConversationRecord, ImageRecord, MessageRecord } from "../../../src/store/idb/schema.ts";

const done = <T>(request: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
const committed = (tx: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });

const hex = async (bytes: Uint8Array<ArrayBuffer>) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
/** Whether image part `i` of `message` holds exactly `bytes`. */
function holds(message: Message | undefined, i: number, bytes: Uint8Array): boolean {
  const part = Array.isArray(message?.content) ? message.content[i] : undefined;
  return part?.type === "image" && "data" in part && part.data.length === bytes.length && part.data.every((x: number, j: number) => x === bytes[j]);
}

/** Version 2's layout and records: lists of messages (no `parentId`), no `activeLeaf`, images as Blobs by hash. */
async function writeV2(name: string, photo: Uint8Array<ArrayBuffer>, hash: string): Promise<void> {
  const open = indexedDB.open(name, 2);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore("conversations", { keyPath: "id" }).createIndex("updated", ["updatedAt", "id"]);
    const messages = db.createObjectStore("messages", { keyPath: ["conversationId", "seq"] });
    messages.createIndex("id", ["conversationId", "message.id"], { unique: true });
    messages.createIndex("images", "images", { multiEntry: true });
    db.createObjectStore("images", { keyPath: "hash" });
  };
  const db = await done(open);
  const tx = db.transaction(["conversations", "messages", "images"], "readwrite");
  const usage = { promptTokens: 0, completionTokens: 0, cost: 0 };
  for (const c of [
    { id: "trip", title: "Trip", model: "m", createdAt: 100, updatedAt: 300, messageCount: 4, usage: { promptTokens: 5, completionTokens: 1, cost: 0.01 }, nextSeq: 5, calibration: { text: 1.1, image: 0.9, samples: 2 } },
    { id: "cats", title: "Cats", model: "m", system: "be brief", createdAt: 150, updatedAt: 400, messageCount: 1, usage, nextSeq: 1 },
    { id: "empty", title: "", model: "m", createdAt: 50, updatedAt: 50, messageCount: 0, usage, nextSeq: 0 },
  ])
    tx.objectStore("conversations").put(c);
  const image = { type: "image", hash, mimeType: "image/png", width: 40, height: 30 };
  for (const m of [
    { conversationId: "trip", seq: 0, message: { id: "u1", role: "user", createdAt: 101, content: [{ type: "text", text: "look" }, image] }, images: [hash] },
    { conversationId: "trip", seq: 1, message: { id: "a1", role: "assistant", createdAt: 102, content: "nice", status: "complete", usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, estimated_cost: 0.01 } }, images: [] },
    // seq 2 was removed: a gap.
    { conversationId: "trip", seq: 3, message: { id: "u2", role: "user", createdAt: 103, content: "and this?", pinned: true }, images: [] },
    { conversationId: "trip", seq: 4, message: { id: "a2", role: "assistant", createdAt: 104, content: "a cut-off rep", status: "interrupted" }, images: [] },
    { conversationId: "cats", seq: 0, message: { id: "c1", role: "user", createdAt: 151, content: [image] }, images: [hash] },
  ])
    tx.objectStore("messages").put(m);
  tx.objectStore("images").put({ hash, blob: new Blob([photo], { type: "image/png" }) });
  await committed(tx);
  db.close();
}

/** The records as they are on disk now (raw IndexedDB, no upgrade). */
async function onDisk(name: string) {
  const db = await done(indexedDB.open(name));
  const tx = db.transaction(["conversations", "messages", "images"]);
  const read = <T>(store: string) => done<T[]>(tx.objectStore(store).getAll());
  const [conversations, messages, images] = await Promise.all([read<ConversationRecord>("conversations"), read<MessageRecord>("messages"), read<ImageRecord>("images")]);
  db.close();
  return { version: db.version, conversations, messages, images: images.map((i) => i.hash) };
}

export async function migrateV2(name: string) {
  const photo = new Uint8Array(5000).map((_, i) => (i * 13 + 11) & 255);
  const hash = await hex(photo);
  await writeV2(name, photo, hash);
  const store = createIndexedDBStore({ name });
  const ids = (messages: Message[]) => messages.map((m) => [m.id, m.parentId ?? null]);
  try {
    const listed = (await store.list()).conversations.map((c) => c.id);
    const migrated = await onDisk(name);
    const trip = await store.get("trip");
    const newest = await store.loadMessages("trip", { limit: 2 });
    const older = await store.loadMessages("trip", { limit: 2, before: newest.before! });
    const cat = (await store.loadMessages("cats")).messages[0];

    // The tree on the migrated data: a new version of the cut-off reply, then back to the first.
    await store.appendMessage("trip", { id: "a2b", role: "assistant", createdAt: 500, content: "the whole reply", status: "complete", parentId: "u2" });
    const regenerated = await store.get("trip");
    const newPath = ids((await store.loadMessages("trip")).messages);
    const switched = await store.switchTo("trip", "a2");
    const oldPath = ids((await store.loadMessages("trip")).messages);
    // An edit of the first message: a version with a branch of its own; removing the old one keeps the shared image.
    await store.appendMessage("trip", { id: "u1b", role: "user", createdAt: 600, content: "look again", parentId: null });
    await store.removeMessages("trip", ["u1"]);
    const afterRemoval = { meta: await store.get("trip"), path: ids((await store.loadMessages("trip")).messages), images: (await onDisk(name)).images };
    await store.delete("cats");
    return {
      listed,
      migrated,
      trip,
      path: [...ids(older.messages), ...ids(newest.messages)],
      before: older.before ?? null,
      bytes: { u1: holds(older.messages[0], 1, photo), c1: holds(cat, 0, photo) },
      regenerated,
      newPath,
      switched,
      oldPath,
      afterRemoval,
      imagesAtEnd: (await onDisk(name)).images,
      hash,
    };
  } finally {
    store.close();
  }
}
