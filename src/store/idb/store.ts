import { exportDocument, importedMeta, spentOnImport } from "../document.js";
import type { IDBPTransaction } from "idb";
import { newId } from "../../messages/id.js";
import type { Message } from "../../messages/types.js";
import { adjustUsage, countIn, countTree, newMeta, interrupted } from "../accounting.js";
import { conversationExists, ConversationNotFoundError, messageExists, StorageError } from "../errors.js";
import { createLocalLocks } from "../local-lock.js";
import { beforeCursor, nextCursor, pageSize, parseCursor } from "../paging.js";
import { leafUnder, missing, pathPage, place, removal, samePlace, type TreeReader } from "../tree.js";
import type { ConversationStore, LockOptions, MessagePage, StoreChange } from "../types.js";
import { storageError } from "./errors.js";
import { connection } from "./open.js";
import { fromStored, isConversationRecord, isMessageRecord, toMeta, toStored } from "./records.js";
import { hashesOf, type StoredMessage } from "../../messages/stored.js";
import type { ConversationRecord, MessageRecord, Schema } from "./schema.js";

export interface IndexedDBStoreOptions {
  /** Database name; default "edgechat". It also names the BroadcastChannel and the Web Locks (`edgechat:<name>`). */
  name?: string;
  /**
   * Opening needs a schema upgrade and another tab keeps the older version open. Called at once (show
   * "close the other tabs"); after `blockedTimeout` the pending call rejects with `DatabaseBlockedError`.
   */
  onBlocked?: () => void;
  /** Milliseconds to wait while blocked; default 10 000. */
  blockedTimeout?: number;
  /** A record read from disk failed validation: it was skipped (not deleted), and `list`/`loadMessages` go on. */
  onCorrupt?: (record: CorruptRecord) => void;
}

export interface CorruptRecord {
  store: "conversations" | "messages";
  key: IDBValidKey;
  value: unknown;
}

export type { StoreChange, StoreChangeKind } from "../types.js";

export interface IndexedDBStore extends ConversationStore {
  /**
   * Changes made by OTHER tabs, workers or store instances on this database (never by this instance): the
   * conversation id and the kind of change, so a list or an open conversation can reload. Returns the
   * unsubscribe function. Needs `BroadcastChannel` (every current browser); without it, never fires.
   */
  onChange(listener: (change: StoreChange) => void): () => void;
  /**
   * Run `fn` holding the conversation's Web Lock, shared by every tab and worker of this origin: another call waits
   * until `fn` settles, and a tab that closes or crashes releases it. Where Web Locks are missing, the lock holds
   * within this page only.
   */
  lockConversation<T>(id: string, fn: () => T | PromiseLike<T>, options?: LockOptions): Promise<T>;
  interruptStale(id: string, messageId: string): Promise<Message | undefined>;
  /** Whether a tab (this one included) holds the conversation's lock now: a turn is running, reply or not yet. */
  isConversationLocked(id: string): Promise<boolean>;
  /** Close the database connection and the channel; later calls reject. */
  close(): void;
}

type Tx = IDBPTransaction<Schema, ("conversations" | "messages" | "images")[], "readwrite">;
const NOT_FREE = Symbol("not free");
/** Where Web Locks are missing: one lock per name for every store instance in this page. */
const local = createLocalLocks();
const STORES = ["conversations", "messages", "images"] as ("conversations" | "messages" | "images")[];

/** The key range below a list cursor: the `updated` index's [updatedAt, id] keys that come after it. */
function below(cursor: unknown): IDBKeyRange {
  const { updatedAt, id } = parseCursor(cursor);
  return IDBKeyRange.upperBound([updatedAt, id], true);
}

/** A conversation's messages with a seq in [from, to). */
const range = (id: string, from = -Infinity, to = Infinity) => IDBKeyRange.bound([id, from], [id, to], false, true);
function fail(error: unknown): never {
  throw storageError(error);
}

/**
 * Conversations in IndexedDB: meta, messages keyed by [conversationId, seq] (each naming its parent: a tree),
 * images stored once as Blobs keyed by SHA-256. Safe with several tabs open (see `onChange`, `lockConversation`).
 * The database opens on the first call; creating the store only checks that IndexedDB exists.
 */
export function createIndexedDBStore({ name = "edgechat", onBlocked, blockedTimeout = 10_000, onCorrupt }: IndexedDBStoreOptions = {}): IndexedDBStore {
  if (typeof indexedDB === "undefined") {
    throw new StorageError(
      'IndexedDB is not available here (Node, Deno and Cloudflare Workers have none): use createMemoryStore() from "edgechat", or a store on your server',
    );
  }
  const topic = `edgechat:${name}`;
  const db = connection(name, onBlocked, blockedTimeout);
  let channel: BroadcastChannel | undefined;
  let closed = false;
  const listeners = new Set<(change: StoreChange) => void>();
  // Strictly increasing, so two changes in one millisecond still order; never behind a record's own time.
  let clock = 0;
  const tick = (after = 0) => (clock = Math.max(Date.now(), clock + 1, after + 1));

  const subscribe = () => {
    if (!channel && !closed && typeof BroadcastChannel === "function") {
      channel = new BroadcastChannel(topic);
      channel.onmessage = ({ data }) => {
        if (typeof data?.id === "string") for (const listener of listeners) listener(data);
      };
      // Node keeps a process alive while a channel is open: never because of a store nobody closed.
      (channel as { unref?(): void }).unref?.();
    }
    return channel;
  };

  /** One transaction over all three stores. If `fn` fails, nothing it wrote commits. */
  const op = async <T>(mode: IDBTransactionMode, fn: (tx: Tx) => Promise<T>, change?: StoreChange): Promise<T> => {
    let tx: Tx | undefined;
    try {
      if (closed) fail(new StorageError("This store is closed"));
      tx = (await db.get()).transaction(STORES, mode as "readwrite");
      const result = await fn(tx);
      await tx.done;
      if (change) subscribe()?.postMessage(change);
      return result;
    } catch (error) {
      try {
        tx?.abort();
      } catch {}
      tx?.done.catch(() => {});
      // A request cut short by its transaction's abort says "AbortError"; the transaction knows why (a full disk).
      return fail((error as Error | undefined)?.name === "AbortError" ? (tx?.error ?? error) : error);
    }
  };

  /** Skip a record that failed validation, and say so. */
  const corrupt = (store: CorruptRecord["store"], key: IDBValidKey, value: unknown): false => {
    try {
      onCorrupt?.({ store, key, value });
    } catch {}
    return false;
  };

  const find = async (tx: Tx, id: string) => {
    const record = await tx.objectStore("conversations").get(id);
    return record && (isConversationRecord(record) || corrupt("conversations", id, record)) ? record : undefined;
  };
  const meta = async (tx: Tx, id: string) => (await find(tx, id)) ?? fail(new ConversationNotFoundError(id));
  const save = (tx: Tx, record: ConversationRecord) => {
    record.updatedAt = tick(record.updatedAt);
    return tx.objectStore("conversations").put(record);
  };
  const fresh = async (tx: Tx, id: string) => {
    if ((await tx.objectStore("conversations").getKey(id)) !== undefined) fail(conversationExists(id));
  };

  const prepare = (message: Message, blobs: Map<string, Blob>) => toStored(message, blobs).catch(fail);
  const record = (conversationId: string, seq: number, message: StoredMessage): MessageRecord => ({ conversationId, seq, message, images: hashesOf(message) });

  /** Write each Blob unless an identical one is stored (same hash): images are stored once. */
  const addImages = async (tx: Tx, blobs: Map<string, Blob>) => {
    const images = tx.objectStore("images");
    for (const [hash, blob] of blobs) if ((await images.getKey(hash)) === undefined) await images.add({ hash, blob });
  };
  /** Delete the images no message uses any more (after the messages' own deletes, in the same transaction). */
  const prune = async (tx: Tx, hashes: string[]) => {
    const used = tx.objectStore("messages").index("images");
    for (const hash of new Set(hashes)) if ((await used.getKey(hash)) === undefined) await tx.objectStore("images").delete(hash);
  };

  /** The valid records whose images are all there, and those images (read in the transaction, bytes after it). */
  const withImages = async (tx: Tx, records: MessageRecord[]) => {
    const blobs = new Map<string, Blob>();
    const images = tx.objectStore("images");
    await Promise.all(
      [...new Set(records.flatMap((r) => hashesOf(r.message)))].map(async (hash) => {
        const blob = (await images.get(hash))?.blob;
        if (blob instanceof Blob) blobs.set(hash, blob);
      }),
    );
    return [records.filter((r) => hashesOf(r.message).every((hash) => blobs.has(hash)) || corrupt("messages", [r.conversationId, r.seq], r)), blobs] as const;
  };
  const hydrate = (records: readonly MessageRecord[], blobs: Map<string, Blob>) => Promise.all(records.map((r) => fromStored(r.message, blobs))).catch(fail);
  const valid = (r: MessageRecord) => isMessageRecord(r) || corrupt("messages", [r?.conversationId, r?.seq] as IDBValidKey, r);

  /**
   * The tree rules' view (../tree.ts) of a conversation's messages in `tx`, as key ranges on [conversationId, seq]:
   * nothing but requests on `tx`, so it stays active between them. `find` reads only the key unless `whole` (place,
   * leafUnder and removal want the seq; pathPage puts the record on the page): placing a message after the leaf
   * reads no other message. Corrupt records are reported and skipped.
   */
  const reader = (tx: Tx, id: string, whole?: boolean): TreeReader<MessageRecord> => {
    const messages = tx.objectStore("messages");
    return {
      async find(messageId) {
        if (whole) {
          const found = await messages.index("id").get([id, messageId]);
          return found && valid(found) ? found : undefined;
        }
        const key = await messages.index("id").getKey([id, messageId]);
        return key && ({ conversationId: id, seq: key[1], message: { id: messageId } } as MessageRecord);
      },
      after: async (seq, count) => (await messages.getAll(range(id, seq), count < Infinity ? count : undefined)).filter(valid),
      async before(seq, count) {
        const found: MessageRecord[] = [];
        // Newest first, stopping at `count`: no read past the last record wanted.
        for (let c = await messages.openCursor(range(id, -Infinity, seq), "prev"); c; c = await c.continue()) {
          if (valid(c.value) && found.push(c.value) >= count) break;
        }
        return found;
      },
    };
  };

  /**
   * The conversation's lock: Web Locks, shared by every tab and worker of this origin and released by the browser
   * when a page dies. Without Web Locks, a lock within this page only. `ifAvailable`: NOT_FREE instead of waiting.
   */
  const lock = async <T>(id: string, fn: () => T | PromiseLike<T>, { signal, onWait, ifAvailable }: LockOptions & { ifAvailable?: boolean } = {}): Promise<T | typeof NOT_FREE> => {
    const name = `${topic}:${id}`;
    const locks = globalThis.navigator?.locks;
    if (!locks) {
      if (ifAvailable && local.held(name)) return NOT_FREE;
      return local.run(name, fn, { ...(signal && { signal }), ...(onWait && { onWait }) });
    }
    const free = await locks.request(name, { ifAvailable: true }, async (held) => (held ? { value: await fn() } : NOT_FREE));
    if (free !== NOT_FREE || ifAvailable) return free === NOT_FREE ? free : free.value;
    onWait?.();
    return locks.request(name, signal ? { signal } : {}, () => fn());
  };
  /** A stored message; `interrupt`: store it as interrupted if still streaming (only for a caller holding the lock). */
  const readMessage = (id: string, messageId: string, interrupt: boolean) =>
    op(interrupt ? "readwrite" : "readonly", async (tx) => {
      const conversation = await meta(tx, id);
      const messages = tx.objectStore("messages");
      const old = await messages.index("id").get([id, messageId]);
      if (!old || !valid(old)) return undefined;
      const [[found], blobs] = await withImages(tx, [old]);
      if (!found) return undefined;
      let stored = found.message;
      if (interrupt && stored.role === "assistant" && stored.status === "streaming") {
        stored = interrupted(stored);
        await messages.put(record(id, old.seq, stored));
        await save(tx, conversation);
      }
      return [stored, blobs] as const;
    }, interrupt ? { id, kind: "update" } : undefined).then((found) => found && fromStored(found[0], found[1]).catch(fail));

  return {
    async list({ limit: asked, cursor } = {}) {
      // Checked before the transaction: a RangeError is the caller's mistake, not a StorageError.
      const limit = pageSize(asked, "list");
      // The cursor (paging.ts, as every store's) names the last conversation listed: the next page starts below it.
      const after = cursor === undefined ? null : below(cursor);
      return op("readonly", async (tx) => {
        const conversations = [];
        let next: string | undefined;
        // Newest first straight from the index: a page reads `limit` records, never the messages.
        const index = tx.objectStore("conversations").index("updated");
        for (let c = await index.openCursor(after, "prev"); c; c = await c.continue()) {
          if (conversations.length === limit) {
            next = nextCursor(conversations, cursor, { updatedAt: c.key[0] });
            break;
          }
          if (isConversationRecord(c.value) || corrupt("conversations", c.primaryKey, c.value)) conversations.push(toMeta(c.value));
        }
        return next === undefined ? { conversations } : { conversations, next };
      });
    },

    get: (id) =>
      op("readonly", async (tx) => {
        const conversation = await find(tx, id);
        return conversation && toMeta(conversation);
      }),

    create(init) {
      const id = init.id ?? newId();
      return op(
        "readwrite",
        async (tx) => {
          await fresh(tx, id);
          const conversation = { ...newMeta({ ...init, id }, tick()), nextSeq: 0 };
          await tx.objectStore("conversations").add(conversation);
          return toMeta(conversation);
        },
        { id, kind: "create" },
      );
    },

    rename: (id, title) =>
      op(
        "readwrite",
        async (tx) => {
          const conversation = await meta(tx, id);
          conversation.title = title;
          await save(tx, conversation);
        },
        { id, kind: "rename" },
      ),

    setCalibration: (id, calibration) =>
      op(
        "readwrite",
        async (tx) => {
          await tx.objectStore("conversations").put({ ...(await meta(tx, id)), calibration });
        },
        { id, kind: "calibration" },
      ),

    delete: (id) =>
      op(
        "readwrite",
        async (tx) => {
          const messages = tx.objectStore("messages");
          const hashes = (await messages.getAll(range(id))).flatMap((r) => hashesOf(r?.message));
          await messages.delete(range(id));
          await tx.objectStore("conversations").delete(id);
          await prune(tx, hashes);
        },
        { id, kind: "delete" },
      ),

    async loadMessages(id, { limit: asked, before: cursor } = {}) {
      const limit = pageSize(asked, "loadMessages");
      const before = beforeCursor(cursor);
      const [records, blobs, older] = await op("readonly", async (tx) => {
        // The active path's page only, read newest first along parent links: a long conversation reads one page.
        const { page, before: older } = await pathPage((await meta(tx, id)).activeLeaf, limit, before, reader(tx, id, true));
        return [...(await withImages(tx, page)), older] as const;
      });
      const page: MessagePage = { messages: await hydrate(records, blobs) };
      if (older !== undefined) page.before = older;
      return page;
    },

    async appendMessage(id, message) {
      const blobs = new Map<string, Blob>();
      const stored = await prepare(message, blobs);
      await op(
        "readwrite",
        async (tx) => {
          // Placed and numbered inside this transaction: two tabs appending at once both land, each after the other.
          const conversation = await meta(tx, id);
          const read = reader(tx, id);
          if (await read.find(message.id)) fail(messageExists(message.id));
          const placed = await place(conversation, stored, read);
          await addImages(tx, blobs);
          await tx.objectStore("messages").add(record(id, conversation.nextSeq++, placed.message));
          countIn(conversation, placed.message, placed.existing);
          await save(tx, conversation);
        },
        { id, kind: "append" },
      );
    },

    async updateMessage(id, message) {
      const blobs = new Map<string, Blob>();
      const stored = await prepare(message, blobs);
      await op(
        "readwrite",
        async (tx) => {
          const conversation = await meta(tx, id);
          const messages = tx.objectStore("messages");
          const old = await messages.index("id").get([id, message.id]);
          if (!old) fail(missing(id, message.id));
          const was = isMessageRecord(old) ? old.message : undefined;
          await addImages(tx, blobs);
          // Its place in the tree stays (a corrupt record's is unknown: the message's own is taken).
          await messages.put(record(id, old.seq, samePlace(stored, was ?? stored)));
          await prune(tx, hashesOf(old.message));
          adjustUsage(conversation, was, message);
          await save(tx, conversation);
        },
        { id, kind: "update" },
      );
    },

    removeMessages: (id, ids) =>
      op(
        "readwrite",
        async (tx) => {
          const conversation = await meta(tx, id);
          // Each message removed takes its branch (everything under it); what it spent stays counted.
          const removed = await removal(conversation, ids, reader(tx, id));
          await Promise.all(removed.map((r) => tx.objectStore("messages").delete([id, r.seq])));
          await prune(tx, removed.flatMap((r) => hashesOf(r.message)));
          await save(tx, conversation);
        },
        { id, kind: "remove" },
      ),

    switchTo: (id, messageId) =>
      op(
        "readwrite",
        async (tx) => {
          const conversation = await meta(tx, id);
          conversation.activeLeaf = await leafUnder(conversation, messageId, reader(tx, id));
          await save(tx, conversation);
          return conversation.activeLeaf;
        },
        { id, kind: "switch" },
      ),

    async export(id) {
      const [conversation, records, blobs] = await op("readonly", async (tx) => {
        const conversation = await meta(tx, id);
        return [conversation, ...(await withImages(tx, (await tx.objectStore("messages").getAll(range(id))).filter(valid)))] as const;
      });
      return exportDocument(conversation, await hydrate(records, blobs));
    },

    async import(document) {
      // Validation is loaded only by the rare import, keeping the entry small.
      const { parseConversationJSON } = await import("../../messages/json.js");
      const parsed = parseConversationJSON(document);
      const blobs = new Map<string, Blob>();
      const stored = await Promise.all(parsed.messages.map((m) => prepare(m, blobs)));
      return op(
        "readwrite",
        async (tx) => {
          await fresh(tx, parsed.id);
          const conversation: ConversationRecord = {
            ...importedMeta(parsed, tick()),
            nextSeq: 0,
          };
          await addImages(tx, blobs);
          // One transaction, every add issued at once: 10 000 messages import in one go, or not at all.
          await Promise.all(stored.map((m) => tx.objectStore("messages").add(record(conversation.id, conversation.nextSeq++, m))));
          countTree(conversation, parsed.messages, parsed.activeLeaf);
          spentOnImport(conversation, parsed);
          await tx.objectStore("conversations").add(conversation);
          return toMeta(conversation);
        },
        { id: parsed.id, kind: "import" },
      );
    },

    onChange(listener) {
      listeners.add(listener);
      subscribe();
      return () => void listeners.delete(listener);
    },

    // Without ifAvailable, lock waits: never NOT_FREE.
    lockConversation: <T>(id: string, fn: () => T | PromiseLike<T>, options?: LockOptions) => lock(id, fn, options) as Promise<T>,

    async isConversationLocked(id) {
      const name = `${topic}:${id}`;
      const locks = globalThis.navigator?.locks;
      return locks ? ((await locks.query()).held ?? []).some((held) => held.name === name) : local.held(name);
    },

    async interruptStale(id, messageId) {
      // Holding the lock (only if it is free) is what makes the check atomic: no tab can be mid-turn meanwhile.
      const result = await lock(id, () => readMessage(id, messageId, true), { ifAvailable: true });
      return result === NOT_FREE ? readMessage(id, messageId, false) : result;
    },

    close() {
      closed = true;
      db.close();
      channel?.close();
      channel = undefined;
      listeners.clear();
    },
  };
}
