// The database layout, version by version. Each step upgrades from the one before, so a database written by
// any earlier version opens under the current one with every record intact.
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from "idb";
import { hashesOf, type StoredMessage } from "../../messages/stored.js";
import type { ConversationMeta } from "../types.js";
import { isMessageRecord } from "./records.js";

/**
 * A conversation: its meta, plus the seq the next message gets (allocated inside the append transaction).
 * v3: `activeLeaf`, and `forks` once a message has versions.
 */
export interface ConversationRecord extends ConversationMeta {
  nextSeq: number;
}

export interface MessageRecord {
  conversationId: string;
  seq: number;
  /** v3: with its `parentId` (absent on a first message). */
  message: StoredMessage;
  /** v2: the hashes of the message's images (indexed, so "is this image still used?" is one lookup). */
  images?: string[];
}

export interface ImageRecord {
  hash: string;
  blob: Blob;
  /** v1 only: how many image parts used it. v2 asks the `images` index of `messages` instead. */
  refs?: number;
}

export interface Schema extends DBSchema {
  /** key: id. v2: index `updated` on [updatedAt, id], for newest-first paged listing. */
  conversations: { key: string; value: ConversationRecord; indexes: { updated: [number, string] } };
  /** key: [conversationId, seq]. Index `id` on [conversationId, message.id] (unique); v2: `images` (multiEntry). */
  messages: { key: [string, number]; value: MessageRecord; indexes: { id: [string, string]; images: string } };
  /** key: the hex SHA-256 of the bytes. */
  images: { key: string; value: ImageRecord };
}

export type Upgrade = IDBPTransaction<Schema, StoreNames<Schema>[], "versionchange">;

export const VERSION = 3;

/** `openDB`'s upgrade callback: runs every step after `from`, in the one versionchange transaction. */
export function upgrade(db: IDBPDatabase<Schema>, from: number, tx: Upgrade): void {
  if (from < 1) v1(db);
  // A failed upgrade rejects the open (what the store reports): `done` rejecting too is no news.
  tx.done.catch(() => {});
  // One step after the other (each rewrites messages it read), and an exception after the first await would not
  // abort the transaction by itself.
  (async () => {
    if (from < 2) await v2(tx);
    if (from < 3) await v3(tx);
  })().catch(() => {
    try {
      tx.abort();
    } catch {}
  });
}

/**
 * Version 1 (the first release): the three stores. Listing read every conversation and sorted them; an image
 * record counted its users in `refs`, so every append or delete that touched an image rewrote its Blob.
 */
export function v1(db: IDBPDatabase<Schema>): void {
  db.createObjectStore("conversations", { keyPath: "id" });
  db.createObjectStore("messages", { keyPath: ["conversationId", "seq"] }).createIndex("id", ["conversationId", "message.id"], { unique: true });
  db.createObjectStore("images", { keyPath: "hash" });
}

/**
 * Version 2: list pages come from an index (newest first, without reading the rest), and whether an image is
 * still used is a lookup in a multiEntry index over each message's image hashes, so Blobs are written once.
 * Existing messages get their `images` list here. v1's `refs` stay on the image records, unused: rewriting
 * every Blob to drop a number is not worth it.
 */
export async function v2(tx: Upgrade): Promise<void> {
  tx.objectStore("conversations").createIndex("updated", ["updatedAt", "id"]);
  const messages = tx.objectStore("messages");
  messages.createIndex("images", "images", { multiEntry: true });
  for (let cursor = await messages.openCursor(); cursor; cursor = await cursor.continue()) {
    const images = hashesOf(cursor.value.message);
    if (images.length > 0) await cursor.update({ ...cursor.value, images });
  }
}

/**
 * Version 3: conversations are trees (issue 13). Before, a conversation was a list: each message now follows the
 * one before it (`parentId`; the first has none), and the last is the active leaf. Corrupt records are left as
 * they are, outside the line. No forks yet: a line has none.
 */
export async function v3(tx: Upgrade): Promise<void> {
  const last = new Map<string, string>();
  // Keyed by [conversationId, seq]: each conversation's messages in order.
  for (let cursor = await tx.objectStore("messages").openCursor(); cursor; cursor = await cursor.continue()) {
    if (!isMessageRecord(cursor.value)) continue;
    const { conversationId, message } = cursor.value;
    const parentId = last.get(conversationId);
    if (parentId !== undefined) await cursor.update({ ...cursor.value, message: { ...message, parentId } });
    last.set(conversationId, message.id);
  }
  const conversations = tx.objectStore("conversations");
  for (const [id, activeLeaf] of last) {
    const conversation = await conversations.get(id);
    if (conversation) await conversations.put({ ...conversation, activeLeaf });
  }
}
