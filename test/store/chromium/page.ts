// Runs in Chromium, bundled by idb.test.ts with vite (src + idb + valibot in one module): the store contract
// and the multi-tab scenarios against the browser's own IndexedDB, BroadcastChannel and Web Locks.
import { createClient } from "../../../src/client/client.ts";
import { Conversation } from "../../../src/conversation/conversation.ts";
import type { Message } from "../../../src/messages/types.ts";
import { ValidationError } from "../../../src/errors/validation.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import { openDB } from "idb";
import { createIndexedDBStore, DatabaseBlockedError, type IndexedDBStore, requestPersistentStorage } from "../../../src/store/idb/index.ts";
import type { StoreChange } from "../../../src/store/types.ts";
import { type Schema, v1, VERSION } from "../../../src/store/idb/schema.ts";
import { go, whenGo } from "../../helpers/page-go.ts";
import { storeContract } from "../contract.ts";
import { migrateV2 } from "./v2-database.ts";

export interface Outcome {
  ok: boolean;
  error?: string;
}

const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const tests = new Map<string, () => Promise<void>>();
let n = 0;
const databases = new WeakMap<object, string>();
storeContract({
  define: (name, fn) => tests.set(name, fn),
  makeStore: () => {
    const name = `contract-${Date.now()}-${n++}`;
    const store = createIndexedDBStore({ name });
    databases.set(store, name);
    return store;
  },
  // Another tab's handle on the same database: its own connection and channel; Web Locks are the origin's, so the
  // two race for the same locks as two tabs would.
  sibling(store) {
    const name = databases.get(store)!;
    const sibling = createIndexedDBStore({ name });
    databases.set(sibling, name);
    return sibling;
  },
  errors: { ValidationError, StorageError, ConversationNotFoundError },
  async footprint(store) {
    const db = await openDB<Schema>(databases.get(store)!);
    const images = await db.getAll("images");
    db.close();
    return { images: images.length, chunks: images.filter((i) => i.blob instanceof Blob).length };
  },
});

const stores = new Map<string, IndexedDBStore>();
const store = (db: string) => stores.get(db) ?? stores.set(db, createIndexedDBStore({ name: db })).get(db)!;
const changes: StoreChange[] = [];
const armed: Promise<void>[] = [];
const client = () => createClient({ baseURL: `${location.origin}/v1/openai`, maxRetries: 0 });
const brief = (m: Message) => ({ id: m.id, role: m.role, content: m.content, status: m.role === "assistant" ? m.status : undefined });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const api = {
  names: [...tests.keys()],
  nativeIndexedDB: String(indexedDB.open).includes("[native code]"),
  async run(name: string): Promise<Outcome> {
    try {
      await tests.get(name)!();
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) };
    }
  },

  // --- two tabs on one database ---
  async create(db: string, id: string) {
    await store(db).create({ model: "m", id });
  },
  listen(db: string) {
    store(db).onChange((c) => changes.push(c));
  },
  changes: () => changes,
  async appendMany(db: string, id: string, prefix: string, count: number) {
    for (let i = 0; i < count; i++) await store(db).appendMessage(id, { id: `${prefix}${i}`, role: "user", content: `${prefix}${i}`, createdAt: Date.now() });
  },
  /** `appendMany` when the next `go` arrives (from any tab): both tabs start at the same moment. */
  armAppends(db: string, id: string, prefix: string, count: number) {
    armed.push(whenGo().then(() => api.appendMany(db, id, prefix, count)));
  },
  go,
  appended: () => Promise.all(armed.splice(0)).then(() => undefined),
  async load(db: string, id: string) {
    const page = await store(db).loadMessages(id, { limit: 10_000 });
    return { ids: page.messages.map((m) => m.id), before: page.before, count: (await store(db).get(id))?.messageCount };
  },
  /** Hold the conversation's Web Lock for `ms`; resolves with when it was held. */
  async hold(db: string, id: string, ms: number) {
    return store(db).lockConversation(id, async () => {
      const start = Date.now();
      await sleep(ms);
      return { start, end: Date.now() };
    });
  },
  hasLocks: () => typeof navigator.locks?.request === "function",

  persist: () => requestPersistentStorage(),

  // --- schema versions across tabs ---
  /** An old tab (schema v1) that never closes blocks the upgrade: onBlocked, then DatabaseBlockedError; closed, the upgrade runs. */
  async blockedUpgrade(db: string) {
    const old = await openDB<Schema>(db, 1, { upgrade: (d) => v1(d) });
    let blocked = 0;
    const s = createIndexedDBStore({ name: db, onBlocked: () => blocked++, blockedTimeout: 300 });
    const error = await s.list().catch((e: unknown) => e);
    old.close();
    const after = await s.list();
    s.close();
    return { blocked, isBlockedError: error instanceof DatabaseBlockedError, isStorageError: error instanceof StorageError, after: after.conversations.length };
  },
  /** A newer version opened elsewhere: this store steps aside (no blocked event), then says to reload. */
  async newerVersion(db: string) {
    const s = createIndexedDBStore({ name: db });
    await s.create({ model: "m", id: "x" });
    let blocked = false;
    const newer = await openDB(db, VERSION + 1, { blocked: () => (blocked = true) });
    newer.close();
    const error = await s.get("x").catch((e: unknown) => e);
    s.close();
    return { blocked, isStorageError: error instanceof StorageError, message: String((error as Error).message) };
  },

  // --- a database written by schema version 2, opened by this one ---
  migrateV2,

  // --- a page closed mid-stream ---
  async startChat(db: string) {
    const conversation = await Conversation.create(store(db), { client: client(), model: MODEL });
    conversation.send("Tell me a long story").done.catch(() => {});
    return conversation.id;
  },
  /** What is on disk now (another store instance, as another tab would see it). */
  async stored(db: string, id: string) {
    const other = createIndexedDBStore({ name: db });
    try {
      return (await other.loadMessages(id)).messages.map(brief);
    } finally {
      other.close();
    }
  },
  async reopen(db: string, id: string) {
    const conversation = await Conversation.open(store(db), id, { client: client() });
    const inMemory = conversation.messages.map(brief);
    await conversation.flush();
    return { inMemory, onDisk: (await store(db).loadMessages(id)).messages.map(brief) };
  },
};

export type PageApi = typeof api;
(window as unknown as { edgechat: PageApi }).edgechat = api;
(window as unknown as { __ready: boolean }).__ready = true;
