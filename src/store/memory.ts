import { exportDocument, importedMeta, spentOnImport } from "./document.js";
import type { Calibration } from "../messages/calibration.js";
import { newId } from "../messages/id.js";
import { parseConversationJSON } from "../messages/json.js";
import type { Message } from "../messages/types.js";
import { adjustUsage, countIn, countTree, newMeta, interrupted } from "./accounting.js";
import { conversationExists, ConversationNotFoundError, messageExists } from "./errors.js";
import { createLocalLocks } from "./local-lock.js";
import { beforeCursor, nextCursor, pageSize, parseCursor } from "./paging.js";
import { leafUnder, missing, pathPage, place, removal, samePlace, type TreeReader } from "./tree.js";
import type { ConversationMeta, ConversationStore, MessagePage, StoreChange } from "./types.js";

interface Entry {
  meta: ConversationMeta;
  /** Every message of every branch, in the order stored. */
  records: Placed[];
  byId: Map<string, Placed>;
  nextSeq: number;
}

interface Placed {
  seq: number;
  message: Message;
}

/** The tree rules' view of an entry: records by id, and by position (binary search: seq only grows). */
function reader(e: Entry): TreeReader<Placed> {
  const at = (seq: number) => {
    let [lo, hi] = [0, e.records.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e.records[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    find: (id) => e.byId.get(id),
    after: (seq, count) => e.records.slice(at(seq), at(seq) + Math.min(count, e.records.length)),
    before: (seq, count) => e.records.slice(Math.max(0, at(seq) - count), at(seq)).reverse(),
  };
}

const newEntry = (meta: ConversationMeta): Entry => ({ meta, records: [], byId: new Map(), nextSeq: 0 });
function add(e: Entry, message: Message): void {
  const record = { seq: e.nextSeq++, message };
  e.records.push(record);
  e.byId.set(message.id, record);
}

const clone = <T>(value: T): T => structuredClone(value);

/**
 * A store in memory: for tests, for server code that persists elsewhere, and as the reference
 * implementation of the `ConversationStore` contract. Values are copied in and out, as a real store's are.
 */
export function createMemoryStore(): ConversationStore {
  const entries = new Map<string, Entry>();
  let clock = 0;
  // Strictly increasing, so two changes in one millisecond still order.
  const now = () => (clock = Math.max(clock + 1, Date.now()));

  const entry = (id: string): Entry => {
    const found = entries.get(id);
    if (!found) throw new ConversationNotFoundError(id);
    return found;
  };
  const locks = createLocalLocks();
  // The tree rules read before they write, across awaits: changes to the tree run one at a time, as a real store's
  // transactions do, so concurrent appends each see the leaf the one before left.
  let last: Promise<unknown> = Promise.resolve();
  const atomic = <T>(change: () => Promise<T>): Promise<T> => {
    const run = last.then(change);
    last = run.catch(() => {});
    return run;
  };
  const listeners = new Set<(change: StoreChange) => void>();
  /** Tell listeners after the change (a microtask later, as a real store's notification arrives), never during it. */
  const touch = (e: Entry, kind: StoreChange["kind"]) => {
    e.meta.updatedAt = now();
    announce(e.meta.id, kind);
  };
  const announce = (id: string, kind: StoreChange["kind"]) => {
    if (listeners.size > 0) queueMicrotask(() => listeners.forEach((listener) => listener({ id, kind })));
  };

  return {
    async list({ limit: asked, cursor } = {}) {
      const limit = pageSize(asked, "list");
      // As the server stores page: the cursor names a position (updatedAt, id), so the next page starts right
      // after it even when conversations were added, changed or deleted meanwhile.
      const after = cursor === undefined ? undefined : parseCursor(cursor);
      const all = [...entries.values()]
        .map((e) => e.meta)
        .filter((m) => !after || m.updatedAt < after.updatedAt || (m.updatedAt === after.updatedAt && m.id < after.id))
        .sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1));
      const page = all.slice(0, limit);
      if (all.length <= limit) return { conversations: clone(page) };
      return { conversations: clone(page), next: nextCursor(page, cursor, all[0]!) };
    },

    async get(id) {
      const e = entries.get(id);
      return e && clone(e.meta);
    },

    async create(init) {
      const id = init.id ?? newId();
      if (entries.has(id)) throw conversationExists(id);
      const meta = newMeta({ ...init, id }, now());
      entries.set(id, newEntry(meta));
      announce(id, "create");
      return clone(meta);
    },

    async rename(id, title) {
      const e = entry(id);
      e.meta.title = title;
      touch(e, "rename");
    },

    async setCalibration(id, calibration: Calibration) {
      entry(id).meta.calibration = clone(calibration);
      announce(id, "calibration");
    },

    async delete(id) {
      if (entries.delete(id)) announce(id, "delete");
    },

    async loadMessages(id, { limit: asked, before: cursor } = {}): Promise<MessagePage> {
      const limit = pageSize(asked, "loadMessages");
      const before = beforeCursor(cursor);
      const e = entry(id);
      const { page, before: next } = await pathPage(e.meta.activeLeaf, limit, before, reader(e));
      const result: MessagePage = { messages: clone(page.map((r) => r.message)) };
      if (next !== undefined) result.before = next;
      return result;
    },

    appendMessage: (id, message) => atomic(async () => {
      const e = entry(id);
      if (e.byId.has(message.id)) throw messageExists(message.id);
      const placed = await place(e.meta, clone(message), reader(e));
      add(e, placed.message);
      countIn(e.meta, placed.message, placed.existing);
      touch(e, "append");
    }),

    async updateMessage(id, message) {
      const e = entry(id);
      const record = e.byId.get(message.id);
      if (!record) throw missing(id, message.id);
      adjustUsage(e.meta, record.message, message);
      record.message = samePlace(clone(message), record.message);
      touch(e, "update");
    },

    removeMessages: (id, ids) => atomic(async () => {
      const e = entry(id);
      const gone = new Set((await removal(e.meta, ids, reader(e))).map((r) => r.message.id));
      e.records = e.records.filter((r) => !gone.has(r.message.id));
      for (const messageId of gone) e.byId.delete(messageId);
      touch(e, "remove");
    }),

    switchTo: (id, messageId) => atomic(async () => {
      const e = entry(id);
      e.meta.activeLeaf = await leafUnder(e.meta, messageId, reader(e));
      touch(e, "switch");
      return e.meta.activeLeaf;
    }),

    async export(id) {
      const { meta, records } = entry(id);
      return clone(exportDocument(meta, records.map((r) => r.message)));
    },

    async import(document) {
      const parsed = parseConversationJSON(document);
      if (entries.has(parsed.id)) throw conversationExists(parsed.id);
      const meta = importedMeta(parsed, now());
      const e = newEntry(meta);
      for (const message of parsed.messages) add(e, message);
      countTree(meta, parsed.messages, parsed.activeLeaf);
      spentOnImport(meta, parsed);
      entries.set(parsed.id, e);
      announce(parsed.id, "import");
      return clone(meta);
    },

    lockConversation: (id, fn, options) => locks.run(id, fn, options),

    async interruptStale(id, messageId) {
      const record = entry(id).byId.get(messageId);
      const message = record?.message;
      if (message?.role === "assistant" && message.status === "streaming" && !locks.held(id)) {
        record!.message = interrupted(message);
        touch(entry(id), "update");
      }
      return record && clone(record.message);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
