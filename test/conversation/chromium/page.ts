// Runs in Chromium, bundled by tabs.test.ts with vite from src/: Conversations on the IndexedDB store (the browser's own
// IndexedDB, BroadcastChannel and Web Locks), driven by the test through `window.tabs`. Each page can hold several
// Conversations by name; each records the changes it announces and the states its replies went through.
import { createClient } from "../../../src/client/client.ts";
import { Conversation } from "../../../src/conversation/conversation.ts";
import type { Reply } from "../../../src/conversation/reply.ts";
import type { Message } from "../../../src/messages/types.ts";
import { createIndexedDBStore, type IndexedDBStore } from "../../../src/store/idb/index.ts";
import { go, whenGo } from "../../helpers/page-go.ts";

const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";

/** How one send ended, and every state its reply went through (the first is the state `send` returned it in). */
export interface Outcome {
  text: string;
  states: string[];
  status: string;
  content?: string;
  error?: string;
}

/** A change a Conversation announced (`onChange`), without the objects. */
export interface Change {
  type: string;
  id?: string;
  role?: string;
  status?: string;
  content?: string;
  ids?: readonly string[];
  error?: string;
}

interface Tracked {
  chat: Conversation;
  changes: Change[];
  states: Map<Reply, string[]>;
  pending: Promise<Outcome>[];
}

const stores = new Map<string, IndexedDBStore>();
const store = (db: string) => stores.get(db) ?? stores.set(db, createIndexedDBStore({ name: db })).get(db)!;
const chats = new Map<string, Tracked>();
const client = () => createClient({ baseURL: `${location.origin}/v1/openai`, maxRetries: 0 });
const tracked = (name: string) => chats.get(name) ?? (() => {
  throw new Error(`no conversation "${name}" in this page`);
})();

function track(name: string, chat: Conversation): void {
  const t: Tracked = { chat, changes: [], states: new Map(), pending: [] };
  chat.onChange((change) => {
    if (change.type === "reply") {
      const states = t.states.get(change.reply) ?? [];
      states.push(change.reply.state);
      t.states.set(change.reply, states);
    } else if (change.type === "append" || change.type === "update") {
      const m = change.message;
      t.changes.push({ type: change.type, id: m.id, role: m.role, content: String(m.content), ...(m.role === "assistant" && { status: m.status }) });
    } else if (change.type === "remove") t.changes.push({ type: "remove", ids: change.ids });
    else if (change.type === "storage-error") t.changes.push({ type: "storage-error", error: String(change.error) });
    else t.changes.push({ type: change.type });
  });
  chats.set(name, t);
}

function start(t: Tracked, text: string, make = () => t.chat.send(text)): Promise<Outcome> {
  const reply = make();
  const states = t.states.get(reply) ?? [];
  states.unshift(reply.state);
  t.states.set(reply, states);
  return reply.done.then(
    (m) => ({ text, states, status: m.status, content: m.content }),
    (e: Error) => ({ text, states, status: reply.state, error: `${e.name}: ${e.message}` }),
  );
}

const api = {
  hasLocks: () => typeof globalThis.navigator?.locks?.request === "function",

  async create(name: string, db: string, id: string, system: string) {
    track(name, await Conversation.create(store(db), { client: client(), model: MODEL, id, system }));
  },
  async open(name: string, db: string, id: string) {
    track(name, await Conversation.open(store(db), id, { client: client() }));
  },
  /** Send now; `settle` waits for it. */
  send(name: string, text: string) {
    const t = tracked(name);
    t.pending.push(start(t, text));
  },
  /** Send when the next `go` arrives (from any page of the origin, this one included). */
  arm(name: string, text: string) {
    const t = tracked(name);
    t.pending.push(whenGo().then(() => start(t, text)));
  },
  /** Regenerate the last reply when the next `go` arrives. */
  armRegenerate(name: string) {
    const t = tracked(name);
    t.pending.push(whenGo().then(() => start(t, "regenerate", () => t.chat.regenerate())));
  },
  regenerate(name: string) {
    const t = tracked(name);
    t.pending.push(start(t, "regenerate", () => t.chat.regenerate()));
  },
  versions: (name: string, id: string) => tracked(name).chat.versions(id),
  switchTo: (name: string, id: string) => tracked(name).chat.switchTo(id),
  go,
  /** The outcomes of every send not settled yet, in the order they were made. */
  async settle(name: string) {
    const t = tracked(name);
    const pending = t.pending.splice(0);
    return Promise.all(pending);
  },
  messages: (name: string): Message[] => [...tracked(name).chat.messages],
  usage: (name: string) => tracked(name).chat.usage,
  changes: (name: string) => tracked(name).changes,
  close(name: string) {
    tracked(name).chat.close();
  },

  /** The active path as stored, the conversation's meta (what was spent), and every message of every branch. */
  async stored(db: string, id: string) {
    const s = store(db);
    return { messages: (await s.loadMessages(id, { limit: Infinity })).messages, meta: await s.get(id), all: (await s.export(id)).messages };
  },
};

export type TabsApi = typeof api;
(window as unknown as { tabs: TabsApi }).tabs = api;
(window as unknown as { __ready: boolean }).__ready = true;
