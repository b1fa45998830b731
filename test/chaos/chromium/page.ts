// Runs in Chromium: many conversations at once through Conversation and the IndexedDB store (real IndexedDB),
// against the chaos upstream. Returns what each turn saw and what the store holds, for the test to check.
import { Conversation } from "../../../src/conversation/conversation.ts";
import { createClient } from "../../../src/client/client.ts";
import { createIndexedDBStore } from "../../../src/store/idb/index.ts";

export interface TurnResult {
  text: string;
  deltas: string;
  status?: string;
  error?: string;
}

export interface ConversationResult {
  id: string;
  turns: TurnResult[];
  memory: { role: string; content: unknown; status?: string }[];
  stored: { role: string; content: unknown; status?: string }[];
}

const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const plain = (m: { role: string; content: unknown; status?: string }) => ({ role: m.role, content: m.content, ...(m.status && { status: m.status }) });

async function run(baseURL: string, db: string, seed: number, conversations: number, turns: number): Promise<ConversationResult[]> {
  const store = createIndexedDBStore({ name: db });
  try {
    return await Promise.all(
      Array.from({ length: conversations }, async (_, index) => {
        const id = `chaos-${seed}-${index}`;
        let current = 0;
        // Each request says its turn, so the test can tell the server's log apart turn by turn.
        const tagged: typeof fetch = (input, init) => {
          const headers = new Headers(init?.headers);
          headers.set("x-chaos-turn", String(current));
          return fetch(input, { ...init, headers });
        };
        // idleTimeout well under the server's 1.5 s stalls, and well over the time a dropped connection takes to
        // reach the page's fetch from Chromium's network process on a busy machine (at 500 ms, a drop was once read
        // as a timeout there).
        const client = createClient({ baseURL, maxRetries: 2, idleTimeout: 1000, timeout: 5000, headers: { "x-chaos-conversation": id }, fetch: tagged });
        const conversation = await Conversation.create(store, { client, model: MODEL, id });
        const results: TurnResult[] = [];
        for (let turn = 0; turn < turns; turn++) {
          current = turn;
          const text = `page conversation ${index}, turn ${turn} — é🦙`;
          const reply = conversation.send(text);
          let deltas = "";
          try {
            for await (const delta of reply) deltas += delta;
          } catch {}
          const outcome = await reply.done.then(
            (m) => ({ status: m.status }),
            (e: Error) => ({ error: e.name }),
          );
          results.push({ text, deltas, ...outcome });
        }
        await conversation.flush();
        const stored = (await store.loadMessages(id, { limit: 1000 })).messages;
        return { id, turns: results, memory: conversation.messages.map(plain), stored: stored.map(plain) };
      }),
    );
  } finally {
    store.close();
  }
}

/** After a reload: what a fresh page reads back from IndexedDB. */
async function reread(db: string, ids: string[]): Promise<Record<string, { role: string; content: unknown; status?: string }[]>> {
  const store = createIndexedDBStore({ name: db });
  try {
    const out: Record<string, { role: string; content: unknown; status?: string }[]> = {};
    for (const id of ids) out[id] = (await store.loadMessages(id, { limit: 1000 })).messages.map(plain);
    return out;
  } finally {
    store.close();
  }
}

(window as unknown as { chaos: unknown }).chaos = { run, reread };
(window as unknown as { __ready: boolean }).__ready = true;
