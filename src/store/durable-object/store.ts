import { exportDocument, importedMeta, spentOnImport } from "../document.js";
import { newId } from "../../messages/id.js";
import { parseConversationJSON } from "../../messages/json.js";
import type { Message } from "../../messages/types.js";
import { adjustUsage, countIn, newMeta } from "../accounting.js";
import { conversationExists, ConversationNotFoundError, messageExists, StorageError } from "../errors.js";
import type { ConversationMeta, ConversationStore, MessagePage } from "../types.js";
import { sqlStorageError } from "./errors.js";
import { guardStore } from "../guard.js";
import { createLocalLocks, type LocalLocks } from "../local-lock.js";
import { applyImageDeltas, readImages } from "./images.js";
import { beforeCursor, nextCursor, pageSize, parseCursor } from "../paging.js";
import { ensureSchema } from "./schema.js";
import { hashesOf, restoreImages } from "../../messages/stored.js";
import { type EncodedMessage, encodeMessage, parseStored, refDeltas } from "../stored-message.js";
import type { DurableObjectStorageLike, LockingStore, SqlValue } from "./types.js";

type Row = Record<string, SqlValue>;

function toMeta(row: Row): ConversationMeta {
  const meta: ConversationMeta = {
    id: String(row.id),
    title: String(row.title),
    model: String(row.model),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    messageCount: Number(row.message_count),
    usage: { promptTokens: Number(row.prompt_tokens), completionTokens: Number(row.completion_tokens), cost: Number(row.cost) },
  };
  if (row.system !== null && row.system !== undefined) meta.system = String(row.system);
  if (row.calibration !== null && row.calibration !== undefined) meta.calibration = JSON.parse(String(row.calibration));
  return meta;
}

const hashList = (hashes: readonly string[]) => (hashes.length > 0 ? JSON.stringify(hashes) : null);
const hashesIn = (row: Row | undefined): string[] => (row?.images ? (JSON.parse(String(row.images)) as string[]) : []);

/** What every store instance on one storage shares: the object is one thread, so its locks and clock are too. */
interface Shared {
  locks: LocalLocks;
  clock: number;
}
const sharedByStorage = new WeakMap<DurableObjectStorageLike, Shared>();

function sharedOf(storage: DurableObjectStorageLike): Shared {
  let shared = sharedByStorage.get(storage);
  if (!shared) {
    const clock = Number(storage.sql.exec("SELECT MAX(updated_at) AS t FROM edgechat_conversations").one().t ?? 0);
    sharedByStorage.set(storage, (shared = { locks: createLocalLocks(), clock }));
  }
  return shared;
}

/**
 * A `ConversationStore` on a Durable Object's SQLite storage (`ctx.storage` of a class declared under
 * `new_sqlite_classes`). Create it inside the object, once, e.g. in its constructor: the object's single thread
 * and `transactionSync` make every method atomic. Meant to hold one user's conversations per object (see
 * `ConversationStoreObject` and `connectDurableObjectStore` to reach it from a Worker). `lockConversation` is
 * the object's own: every store made on the same `ctx.storage`, and every Worker that reaches the object, shares it.
 */
export function createDurableObjectStore(storage: DurableObjectStorageLike): LockingStore {
  const { sql } = storage;
  const tx = <T>(fn: () => T): T => storage.transactionSync(fn);
  ensureSchema(storage);
  const shared = sharedOf(storage);
  const { locks } = shared;

  // Strictly increasing, so that two changes in one request (Date.now() stands still while a Worker computes) still order.
  const now = (after = 0) => (shared.clock = Math.max(shared.clock + 1, Date.now(), after + 1));

  const row = (id: string): Row | undefined => sql.exec("SELECT * FROM edgechat_conversations WHERE id = ?", id).toArray()[0];
  const existing = (id: string): Row => {
    const found = row(id);
    if (!found) throw new ConversationNotFoundError(id);
    return found;
  };
  const messageRow = (id: string, messageId: string): Row | undefined =>
    sql.exec("SELECT seq, body, images FROM edgechat_messages WHERE conversation_id = ? AND id = ?", id, messageId).toArray()[0];

  function insertMeta(meta: ConversationMeta, nextSeq: number): void {
    sql.exec(
      `INSERT INTO edgechat_conversations (id, title, model, system, created_at, updated_at, message_count, prompt_tokens,
        completion_tokens, cost, calibration, next_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      meta.id, meta.title, meta.model, meta.system ?? null, meta.createdAt, meta.updatedAt, meta.messageCount,
      meta.usage.promptTokens, meta.usage.completionTokens, meta.usage.cost,
      meta.calibration ? JSON.stringify(meta.calibration) : null, nextSeq,
    );
  }

  /** Write back what the methods change; `touch` moves updatedAt (and the conversation to the top of the list). */
  function saveMeta(meta: ConversationMeta, nextSeq: number, touch = true): void {
    if (touch) meta.updatedAt = now(meta.updatedAt);
    sql.exec(
      `UPDATE edgechat_conversations SET title = ?, updated_at = ?, message_count = ?, prompt_tokens = ?, completion_tokens = ?,
        cost = ?, calibration = ?, next_seq = ? WHERE id = ?`,
      meta.title, meta.updatedAt, meta.messageCount, meta.usage.promptTokens, meta.usage.completionTokens, meta.usage.cost,
      meta.calibration ? JSON.stringify(meta.calibration) : null, nextSeq, meta.id,
    );
  }

  /** The one way a stored message changes (updateMessage, interruptStale). Call inside a transaction. */
  function replaceMessage(found: Row, old: Row, encoded: EncodedMessage): void {
    const { message, json, hashes, images } = encoded;
    sql.exec("UPDATE edgechat_messages SET body = ?, images = ? WHERE conversation_id = ? AND id = ?", json, hashList(hashes), found.id, message.id);
    applyImageDeltas(sql, refDeltas(hashes, hashesIn(old)), images);
    const meta = toMeta(found);
    adjustUsage(meta, parseStored(String(old.body)), message);
    saveMeta(meta, Number(found.next_seq));
  }

  /** Stored bodies (oldest first) → messages, image bytes read once per distinct image. */
  function decode(rows: readonly Row[]): Message[] {
    const stored = rows.map((r) => parseStored(String(r.body)));
    const images = readImages(sql, stored.flatMap(hashesOf));
    return stored.map((m) => restoreImages(m, (hash) => images.get(hash)!));
  }

  const store: ConversationStore = {
    async list(options = {}) {
      const limit = pageSize(options.limit, "list");
      const order = "ORDER BY updated_at DESC, id DESC LIMIT ?";
      let rows: Row[];
      if (options.cursor === undefined) {
        rows = sql.exec(`SELECT * FROM edgechat_conversations ${order}`, limit + 1).toArray();
      } else {
        const after = parseCursor(options.cursor);
        rows = sql.exec(`SELECT * FROM edgechat_conversations WHERE (updated_at, id) < (?, ?) ${order}`, after.updatedAt, after.id, limit + 1).toArray();
      }
      const conversations = rows.slice(0, limit).map(toMeta);
      if (rows.length <= limit) return { conversations };
      return { conversations, next: nextCursor(conversations, options.cursor, toMeta(rows[0]!)) };
    },

    async get(id) {
      const found = row(id);
      return found && toMeta(found);
    },

    async create(init) {
      const id = init.id ?? newId();
      return tx(() => {
        if (row(id)) throw conversationExists(id);
        const meta = newMeta({ ...init, id }, now());
        insertMeta(meta, 0);
        return meta;
      });
    },

    async rename(id, title) {
      tx(() => {
        const found = existing(id);
        saveMeta({ ...toMeta(found), title }, Number(found.next_seq));
      });
    },

    async setCalibration(id, calibration) {
      tx(() => {
        const found = existing(id);
        saveMeta({ ...toMeta(found), calibration: structuredClone(calibration) }, Number(found.next_seq), false);
      });
    },

    async delete(id) {
      tx(() => {
        const rows = sql.exec("SELECT images FROM edgechat_messages WHERE conversation_id = ? AND images IS NOT NULL", id).toArray();
        sql.exec("DELETE FROM edgechat_messages WHERE conversation_id = ?", id);
        sql.exec("DELETE FROM edgechat_conversations WHERE id = ?", id);
        applyImageDeltas(sql, refDeltas([], rows.flatMap(hashesIn)), new Map());
      });
    },

    async loadMessages(id, options = {}): Promise<MessagePage> {
      const limit = pageSize(options.limit, "loadMessages");
      const before = beforeCursor(options.before);
      existing(id);
      const rows =
        before === undefined
          ? sql.exec("SELECT seq, body FROM edgechat_messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?", id, limit + 1).toArray()
          : sql.exec("SELECT seq, body FROM edgechat_messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?", id, before, limit + 1).toArray();
      const page = rows.slice(0, limit).reverse();
      const messages = decode(page);
      // An empty page (limit 0) leads to the newest message it did not load.
      return rows.length > limit ? { messages, before: page[0] ? Number(page[0].seq) : Number(rows[0]!.seq) + 1 } : { messages };
    },

    async appendMessage(id, input) {
      const encoded = await encodeMessage(input);
      const { message } = encoded;
      tx(() => {
        const found = existing(id);
        if (messageRow(id, message.id)) throw messageExists(message.id);
        const seq = Number(found.next_seq);
        sql.exec(
          "INSERT INTO edgechat_messages (conversation_id, seq, id, body, images) VALUES (?, ?, ?, ?, ?)",
          id, seq, message.id, encoded.json, hashList(encoded.hashes),
        );
        applyImageDeltas(sql, refDeltas(encoded.hashes, []), encoded.images);
        const meta = toMeta(found);
        countIn(meta, message);
        saveMeta(meta, seq + 1);
      });
    },

    async updateMessage(id, input) {
      const encoded = await encodeMessage(input);
      tx(() => {
        const found = existing(id);
        const old = messageRow(id, encoded.message.id);
        if (!old) throw new StorageError(`No message "${encoded.message.id}" in conversation "${id}"`);
        replaceMessage(found, old, encoded);
      });
    },

    async removeMessages(id, messageIds) {
      tx(() => {
        const found = existing(id);
        const meta = toMeta(found);
        const released: string[] = [];
        for (const messageId of new Set(messageIds)) {
          const old = messageRow(id, messageId);
          if (!old) continue;
          sql.exec("DELETE FROM edgechat_messages WHERE conversation_id = ? AND id = ?", id, messageId);
          adjustUsage(meta, parseStored(String(old.body)), undefined);
          released.push(...hashesIn(old));
          meta.messageCount--;
        }
        applyImageDeltas(sql, refDeltas([], released), new Map());
        saveMeta(meta, Number(found.next_seq));
      });
    },

    async export(id) {
      const meta = toMeta(existing(id));
      const messages = decode(sql.exec("SELECT body FROM edgechat_messages WHERE conversation_id = ? ORDER BY seq", id).toArray());
      return exportDocument(meta, messages);
    },

    async import(document) {
      const parsed = parseConversationJSON(document);
      const encoded = await Promise.all(parsed.messages.map(encodeMessage));
      return tx(() => {
        if (row(parsed.id)) throw conversationExists(parsed.id);
        const meta = importedMeta(parsed, now());
        const images = new Map<string, Uint8Array>();
        encoded.forEach(({ message, json, hashes, images: own }, seq) => {
          sql.exec("INSERT INTO edgechat_messages (conversation_id, seq, id, body, images) VALUES (?, ?, ?, ?, ?)", meta.id, seq, message.id, json, hashList(hashes));
          for (const [hash, bytes] of own) images.set(hash, bytes);
          countIn(meta, message);
        });
        applyImageDeltas(sql, refDeltas(encoded.flatMap((e) => e.hashes), []), images);
        spentOnImport(meta, parsed);
        insertMeta(meta, encoded.length);
        return meta;
      });
    },

    async interruptStale(id, messageId) {
      return tx(() => {
        const found = existing(id);
        const old = messageRow(id, messageId);
        if (!old) return undefined;
        const stored = parseStored(String(old.body));
        if (stored.role !== "assistant" || stored.status !== "streaming" || locks.held(id)) return decode([old])[0];
        // A reply has no images: its encoding needs no hashing, so check and write stay in this one transaction.
        const message = { ...stored, status: "interrupted" as const };
        replaceMessage(found, old, { message, json: JSON.stringify(message), hashes: [], images: new Map() });
        return message;
      });
    },
  };
  // Outside the guard: what fn throws is the caller's own error, not a storage failure.
  const lockConversation: LockingStore["lockConversation"] = (id, fn, options) => locks.run(id, fn, options);
  return { ...(guardStore(store, sqlStorageError) as LockingStore), lockConversation };
}
