import { exportDocument, importedMeta, spentOnImport } from "./document.js";
import type { Calibration } from "../messages/calibration.js";
import { newId } from "../messages/id.js";
import { parseConversationJSON } from "../messages/json.js";
import type { Message } from "../messages/types.js";
import { adjustUsage, countIn, newMeta } from "./accounting.js";
import { conversationExists, ConversationNotFoundError, messageExists, StorageError } from "./errors.js";
import { createLocalLocks } from "./local-lock.js";
import { beforeCursor, nextCursor, pageSize, parseCursor } from "./paging.js";
import type { ConversationMeta, ConversationStore, MessagePage, StoreChange } from "./types.js";

interface Entry {
  meta: ConversationMeta;
  messages: Message[];
  /** Ids of `messages`, for an O(1) duplicate check. */
  ids: Set<string>;
  /** seq of each message, parallel to `messages`. */
  seqs: number[];
  nextSeq: number;
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
      entries.set(id, { meta, messages: [], ids: new Set(), seqs: [], nextSeq: 0 });
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
      let end = e.seqs.length;
      if (before !== undefined) while (end > 0 && e.seqs[end - 1]! >= before) end--;
      const start = Math.max(0, end - limit);
      const page: MessagePage = { messages: clone(e.messages.slice(start, end)) };
      // An empty page (limit 0) starts where the messages it did not load end.
      if (start > 0) page.before = e.seqs[start] ?? e.nextSeq;
      return page;
    },

    async appendMessage(id, message) {
      const e = entry(id);
      if (e.ids.has(message.id)) throw messageExists(message.id);
      e.ids.add(message.id);
      e.messages.push(clone(message));
      e.seqs.push(e.nextSeq++);
      countIn(e.meta, message);
      touch(e, "append");
    },

    async updateMessage(id, message) {
      const e = entry(id);
      const index = e.messages.findIndex((m) => m.id === message.id);
      if (index === -1) throw new StorageError(`No message "${message.id}" in conversation "${id}"`);
      adjustUsage(e.meta, e.messages[index], message);
      e.messages[index] = clone(message);
      touch(e, "update");
    },

    async removeMessages(id, ids) {
      const e = entry(id);
      const gone = new Set(ids);
      for (let i = e.messages.length - 1; i >= 0; i--) {
        if (!gone.has(e.messages[i]!.id)) continue;
        adjustUsage(e.meta, e.messages[i], undefined);
        e.ids.delete(e.messages[i]!.id);
        e.messages.splice(i, 1);
        e.seqs.splice(i, 1);
        e.meta.messageCount--;
      }
      touch(e, "remove");
    },

    async export(id) {
      const { meta, messages } = entry(id);
      return clone(exportDocument(meta, messages));
    },

    async import(document) {
      const parsed = parseConversationJSON(document);
      if (entries.has(parsed.id)) throw conversationExists(parsed.id);
      const meta = importedMeta(parsed, now());
      const e: Entry = { meta, messages: [], ids: new Set(), seqs: [], nextSeq: 0 };
      for (const message of parsed.messages) {
        e.ids.add(message.id);
        e.messages.push(message);
        e.seqs.push(e.nextSeq++);
        countIn(meta, message);
      }
      spentOnImport(meta, parsed);
      entries.set(parsed.id, e);
      announce(parsed.id, "import");
      return clone(meta);
    },

    lockConversation: (id, fn, options) => locks.run(id, fn, options),

    async interruptStale(id, messageId) {
      const e = entry(id);
      const index = e.messages.findIndex((m) => m.id === messageId);
      const message = e.messages[index];
      if (message?.role === "assistant" && message.status === "streaming" && !locks.held(id)) {
        e.messages[index] = { ...message, status: "interrupted" };
        touch(e, "update");
      }
      return e.messages[index] && clone(e.messages[index]);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
