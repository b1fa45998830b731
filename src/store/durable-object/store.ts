import { exportDocument, importedMeta, spentOnImport } from "../document.js";
import { newId } from "../../messages/id.js";
import { parseConversationJSON } from "../../messages/json.js";
import type { Message } from "../../messages/types.js";
import { adjustUsage, countIn, countTree, newMeta, interrupted } from "../accounting.js";
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
import { leafUnder, missing, pathPage, place, type Placed, removal, samePlace, type TreeReader } from "../tree.js";
import type { DurableObjectStorageLike, LockingStore, SqlCursorLike, SqlValue } from "./types.js";

type Row = Record<string, SqlValue>;

/** A message row as the tree rules see it (seq, id, parent), with the column its caller asked for in `row`. */
interface Link extends Placed {
  row: Row;
}

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
  if (row.active_leaf !== null && row.active_leaf !== undefined) meta.activeLeaf = String(row.active_leaf);
  if (row.forks !== null && row.forks !== undefined) meta.forks = JSON.parse(String(row.forks));
  if (row.calibration !== null && row.calibration !== undefined) meta.calibration = JSON.parse(String(row.calibration));
  return meta;
}

/** The conversation row that holds `meta` (toMeta's inverse), and the seq its next message gets. */
function metaRow(meta: ConversationMeta, nextSeq: number): Row {
  return {
    id: meta.id,
    title: meta.title,
    model: meta.model,
    system: meta.system ?? null,
    created_at: meta.createdAt,
    updated_at: meta.updatedAt,
    message_count: meta.messageCount,
    active_leaf: meta.activeLeaf ?? null,
    forks: meta.forks ? JSON.stringify(meta.forks) : null,
    prompt_tokens: meta.usage.promptTokens,
    completion_tokens: meta.usage.completionTokens,
    cost: meta.usage.cost,
    calibration: meta.calibration ? JSON.stringify(meta.calibration) : null,
    next_seq: nextSeq,
  };
}

/**
 * `encoded` at the place the tree rules gave `message` (`place` for an append, `samePlace` for an update), which
 * may not be the one its caller wrote: its JSON says the same parent.
 */
function placed(encoded: EncodedMessage, message: Message): EncodedMessage {
  if (message.parentId === encoded.message.parentId) return { ...encoded, message };
  return { ...encoded, message, json: JSON.stringify({ ...parseStored(encoded.json), parentId: message.parentId }) };
}

const hashList = (hashes: readonly string[]) => (hashes.length > 0 ? JSON.stringify(hashes) : null);
const hashesIn = (row: Row | undefined): string[] => (row?.images ? (JSON.parse(String(row.images)) as string[]) : []);

/** What every store instance on one storage shares: the object is one thread, so its locks and clock are too. */
interface Shared {
  /** The conversations' writer locks (`lockConversation`). */
  locks: LocalLocks;
  /** One call at a time per conversation (see `atomic`). */
  calls: LocalLocks;
  clock: number;
}
const sharedByStorage = new WeakMap<DurableObjectStorageLike, Shared>();

function sharedOf(storage: DurableObjectStorageLike): Shared {
  let shared = sharedByStorage.get(storage);
  if (!shared) {
    const clock = Number(storage.sql.exec("SELECT MAX(updated_at) AS t FROM edgechat_conversations").one().t ?? 0);
    sharedByStorage.set(storage, (shared = { locks: createLocalLocks(), calls: createLocalLocks(), clock }));
  }
  return shared;
}

/**
 * A `ConversationStore` on a Durable Object's SQLite storage (`ctx.storage` of a class declared under
 * `new_sqlite_classes`). Create it inside the object, once, e.g. in its constructor: the object's single thread,
 * one call at a time per conversation and `transactionSync` make every method atomic. Meant to hold one user's
 * conversations per object (see `ConversationStoreObject` and `connectDurableObjectStore` to reach it from a Worker). `lockConversation` is
 * the object's own: every store made on the same `ctx.storage`, and every Worker that reaches the object, shares it.
 */
export function createDurableObjectStore(storage: DurableObjectStorageLike): LockingStore {
  const { sql } = storage;
  const tx = <T>(fn: () => T): T => storage.transactionSync(fn);
  ensureSchema(storage);
  const shared = sharedOf(storage);
  const { locks } = shared;
  // The tree rules (tree.ts) are async: each await of the reader, which answers at once, still lets the other calls
  // in flight in this object run (a microtask later), so an append that read the active leaf could write after
  // another append moved it. The calls on one conversation take turns instead: each reads what it needs, then writes
  // in one transaction at its end, with nothing else on that conversation in between. get, list and export read in
  // one synchronous step and need no turn.
  const atomic = <T>(id: string, call: () => T | Promise<T>): Promise<T> => shared.calls.run(id, call);

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
    const row = metaRow(meta, nextSeq);
    const columns = Object.keys(row);
    sql.exec(`INSERT INTO edgechat_conversations (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...Object.values(row));
  }

  /** Write back what the methods change; `touch` moves updatedAt (and the conversation to the top of the list). */
  function saveMeta(meta: ConversationMeta, nextSeq: number, touch = true): void {
    if (touch) meta.updatedAt = now(meta.updatedAt);
    const { id, ...row } = metaRow(meta, nextSeq);
    sql.exec(`UPDATE edgechat_conversations SET ${Object.keys(row).map((column) => `${column} = ?`).join(", ")} WHERE id = ?`, ...Object.values(row), id);
  }

  function insertMessage(id: string, seq: number, { message, json, hashes }: EncodedMessage): void {
    sql.exec("INSERT INTO edgechat_messages (conversation_id, seq, id, body, images) VALUES (?, ?, ?, ?, ?)", id, seq, message.id, json, hashList(hashes));
  }

  /**
   * The tree rules' view of one conversation's messages: indexed reads of seq, id and the parent (SQLite reads it
   * out of the JSON), plus `column` (the body for a page, the image hashes for a removal) and nothing else.
   */
  function reader(id: string, column?: "body" | "images"): TreeReader<Link> {
    const columns = `seq, id, json_extract(body, '$.parentId') AS parent${column ? `, ${column}` : ""}`;
    const select = `SELECT ${columns} FROM edgechat_messages WHERE conversation_id = ?`;
    const link = (row: Row): Link => ({ seq: Number(row.seq), message: { id: String(row.id), parentId: row.parent === null ? undefined : String(row.parent) }, row });
    const links = (cursor: SqlCursorLike) => cursor.toArray().map(link);
    // The rules ask for Infinity; SQLite's "no limit" is -1.
    const most = (count: number) => (count === Infinity ? -1 : count);
    return {
      find: (messageId) => links(sql.exec(`${select} AND id = ?`, id, messageId))[0],
      after: (seq, count) => links(sql.exec(`${select} AND seq >= ? ORDER BY seq LIMIT ?`, id, seq, most(count))),
      before: (seq, count) => links(sql.exec(`${select} AND seq < ? ORDER BY seq DESC LIMIT ?`, id, seq, most(count))),
    };
  }

  /** The one way a stored message changes (updateMessage, interruptStale); its place stays. Call inside a transaction. */
  function replaceMessage(found: Row, old: Row, encoded: EncodedMessage): void {
    const stored = parseStored(String(old.body));
    const { message, json, hashes, images } = placed(encoded, samePlace(encoded.message, stored));
    sql.exec("UPDATE edgechat_messages SET body = ?, images = ? WHERE conversation_id = ? AND id = ?", json, hashList(hashes), found.id, message.id);
    applyImageDeltas(sql, refDeltas(hashes, hashesIn(old)), images);
    const meta = toMeta(found);
    adjustUsage(meta, stored, message);
    saveMeta(meta, Number(found.next_seq));
  }

  /** Stored bodies (oldest first) → messages, image bytes read once per distinct image. */
  function decode(rows: readonly Row[]): Message[] {
    const stored = rows.map((r) => parseStored(String(r.body)));
    const images = readImages(sql, stored.flatMap(hashesOf));
    return stored.map((m) => restoreImages(m, (hash) => images.get(hash)!));
  }

  const store = {
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
      return atomic(id, () =>
        tx(() => {
          if (row(id)) throw conversationExists(id);
          const meta = newMeta({ ...init, id }, now());
          insertMeta(meta, 0);
          return meta;
        }),
      );
    },

    async rename(id, title) {
      await atomic(id, () =>
        tx(() => {
          const found = existing(id);
          saveMeta({ ...toMeta(found), title }, Number(found.next_seq));
        }),
      );
    },

    async setCalibration(id, calibration) {
      await atomic(id, () =>
        tx(() => {
          const found = existing(id);
          saveMeta({ ...toMeta(found), calibration: structuredClone(calibration) }, Number(found.next_seq), false);
        }),
      );
    },

    async delete(id) {
      await atomic(id, () =>
        tx(() => {
          const rows = sql.exec("SELECT images FROM edgechat_messages WHERE conversation_id = ? AND images IS NOT NULL", id).toArray();
          sql.exec("DELETE FROM edgechat_messages WHERE conversation_id = ?", id);
          sql.exec("DELETE FROM edgechat_conversations WHERE id = ?", id);
          applyImageDeltas(sql, refDeltas([], rows.flatMap(hashesIn)), new Map());
        }),
      );
    },

    async loadMessages(id, options = {}): Promise<MessagePage> {
      const limit = pageSize(options.limit, "loadMessages");
      const before = beforeCursor(options.before);
      return atomic(id, async () => {
        const { activeLeaf } = toMeta(existing(id));
        const { page, before: next } = await pathPage(activeLeaf, limit, before, reader(id, "body"));
        const result: MessagePage = { messages: decode(page.map((link) => link.row)) };
        if (next !== undefined) result.before = next;
        return result;
      });
    },

    async appendMessage(id, input) {
      const encoded = await encodeMessage(input);
      await atomic(id, async () => {
        const found = existing(id);
        if (messageRow(id, encoded.message.id)) throw messageExists(encoded.message.id);
        const meta = toMeta(found);
        const at = await place(meta, encoded.message, reader(id));
        const stored = placed(encoded, at.message);
        const seq = Number(found.next_seq);
        tx(() => {
          insertMessage(id, seq, stored);
          applyImageDeltas(sql, refDeltas(stored.hashes, []), stored.images);
          countIn(meta, stored.message, at.existing);
          saveMeta(meta, seq + 1);
        });
      });
    },

    async updateMessage(id, input) {
      const encoded = await encodeMessage(input);
      await atomic(id, () =>
        tx(() => {
          const found = existing(id);
          const old = messageRow(id, encoded.message.id);
          if (!old) throw missing(id, encoded.message.id);
          replaceMessage(found, old, encoded);
        }),
      );
    },

    async removeMessages(id, messageIds) {
      await atomic(id, async () => {
        const found = existing(id);
        const meta = toMeta(found);
        const removed = await removal(meta, messageIds, reader(id, "images"));
        tx(() => {
          for (const { seq } of removed) sql.exec("DELETE FROM edgechat_messages WHERE conversation_id = ? AND seq = ?", id, seq);
          applyImageDeltas(sql, refDeltas([], removed.flatMap((link) => hashesIn(link.row))), new Map());
          saveMeta(meta, Number(found.next_seq));
        });
      });
    },

    switchTo: (id, messageId) =>
      atomic(id, async () => {
        const found = existing(id);
        const meta = toMeta(found);
        meta.activeLeaf = await leafUnder(meta, messageId, reader(id));
        saveMeta(meta, Number(found.next_seq));
        return meta.activeLeaf;
      }),

    async export(id) {
      const meta = toMeta(existing(id));
      const messages = decode(sql.exec("SELECT body FROM edgechat_messages WHERE conversation_id = ? ORDER BY seq", id).toArray());
      return exportDocument(meta, messages);
    },

    async import(document) {
      const parsed = parseConversationJSON(document);
      const encoded = await Promise.all(parsed.messages.map(encodeMessage));
      return atomic(parsed.id, () =>
        tx(() => {
          if (row(parsed.id)) throw conversationExists(parsed.id);
          const meta = importedMeta(parsed, now());
          const images = new Map<string, Uint8Array>();
          encoded.forEach((one, seq) => {
            insertMessage(meta.id, seq, one);
            for (const [hash, bytes] of one.images) images.set(hash, bytes);
          });
          applyImageDeltas(sql, refDeltas(encoded.flatMap((e) => e.hashes), []), images);
          countTree(meta, parsed.messages, parsed.activeLeaf);
          spentOnImport(meta, parsed);
          insertMeta(meta, encoded.length);
          return meta;
        }),
      );
    },

    async interruptStale(id, messageId) {
      return atomic(id, () =>
        tx(() => {
          const found = existing(id);
          const old = messageRow(id, messageId);
          if (!old) return undefined;
          const stored = parseStored(String(old.body));
          if (stored.role !== "assistant" || stored.status !== "streaming" || locks.held(id)) return decode([old])[0];
          // A reply has no images: its encoding needs no hashing, so check and write stay in this one transaction.
          const message = interrupted(stored);
          replaceMessage(found, old, { message, json: JSON.stringify(message), hashes: [], images: new Map() });
          return message;
        }),
      );
    },
  } satisfies Omit<LockingStore, "lockConversation">;
  // Outside the guard: what fn throws is the caller's own error, not a storage failure.
  const lockConversation: LockingStore["lockConversation"] = (id, fn, options) => locks.run(id, fn, options);
  return { ...guardStore(store, sqlStorageError), lockConversation };
}
