// The store workload, shared by Node (fake-indexeddb, memory store) and the Chromium page: no Node APIs here.
// Works on any ConversationStore; each step is checked so a store that skips work cannot look fast.

const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const WORDS = "the a picture of cat on table with model answer context window token stream request reply image".split(" ");

function text(i, length) {
  let s = "";
  for (let k = 0; s.length < length; k++) s += `${WORDS[(i * 7 + k * 13) % WORDS.length]} `;
  return s.trimEnd();
}

/** Message i of a conversation: user, assistant, user, ... with chat-sized text; replies carry usage. */
export function message(i) {
  const base = { id: `m${i}`, createdAt: 1764028800000 + i * 1000 };
  if (i % 2 === 0) return { ...base, role: "user", content: text(i, 200) };
  return {
    ...base,
    role: "assistant",
    content: text(i, 600),
    status: "complete",
    finishReason: "stop",
    usage: { prompt_tokens: 40 * i, completion_tokens: 150, total_tokens: 40 * i + 150, estimated_cost: 0.0000721 },
  };
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], runs: s.length };
}

/**
 * 1. append `appends` messages one by one (awaited, as a conversation does), each timed;
 * 2. open a conversation of `messages` messages: get + its newest page, `opens` times. It is the appended one when
 *    appends ≥ messages; otherwise one imported (store.import, one document, timed) from copies of the appended messages;
 * 3. with `conversations` conversations in the store, list the newest page and page through all of them, `lists` times.
 * Times in ms; `now` is the clock (performance.now).
 */
export async function runWorkload(
  store,
  { appends = 10_000, messages = appends, conversations = 1_000, pageSize = 50, opens = 20, lists = 10, now = () => performance.now() } = {},
) {
  const out = { appends, messages, conversations };
  const appended = await store.create({ model: MODEL, title: "bench" });
  let created = 1;

  const times = [];
  const t0 = now();
  for (let i = 0; i < appends; i++) {
    const start = now();
    await store.appendMessage(appended.id, message(i));
    times.push(now() - start);
  }
  out.appendTotal = now() - t0;
  out.append = stats(times);

  let open = appended.id;
  if (appends < messages) {
    // A document in the store's own export format, grown to `messages` messages from the appended ones.
    const doc = await store.export(appended.id);
    const [{ parentId: _, ...user }, assistant] = doc.messages;
    doc.id = `imported-${appends}-${messages}`;
    // A line: each message follows the one before.
    doc.messages = Array.from({ length: messages }, (_, i) => ({
      ...(i % 2 === 0 ? user : assistant),
      id: `m${i}`,
      createdAt: 1764028800000 + i * 1000,
      ...(i > 0 ? { parentId: `m${i - 1}` } : {}),
    }));
    delete doc.messages[0].parentId;
    const start = now();
    const meta = await store.import(doc);
    out.importMs = now() - start;
    open = meta.id;
    created++;
  }

  const opensMs = [];
  for (let r = 0; r < opens; r++) {
    const start = now();
    const meta = await store.get(open);
    const page = await store.loadMessages(open, { limit: pageSize });
    opensMs.push(now() - start);
    if (meta?.messageCount !== messages || page.messages.length !== Math.min(pageSize, messages) || page.messages.at(-1)?.id !== `m${messages - 1}`) {
      throw new Error(`open: got ${meta?.messageCount} messages, a page of ${page.messages.length} ending with ${page.messages.at(-1)?.id}`);
    }
  }
  out.open = stats(opensMs);

  const setup = now();
  for (let i = created; i < conversations; i++) await store.create({ model: MODEL, title: `conversation ${i}` });
  out.listSetupMs = now() - setup;
  const firsts = [];
  const alls = [];
  for (let r = 0; r < lists; r++) {
    let start = now();
    const first = await store.list({ limit: pageSize });
    firsts.push(now() - start);
    if (first.conversations.length !== Math.min(pageSize, conversations)) throw new Error(`list: first page of ${first.conversations.length}`);
    start = now();
    let cursor;
    let seen = 0;
    do {
      const page = await store.list(cursor === undefined ? { limit: 100 } : { limit: 100, cursor });
      seen += page.conversations.length;
      cursor = page.next;
    } while (cursor !== undefined);
    alls.push(now() - start);
    if (seen !== conversations) throw new Error(`list: paged through ${seen} conversations, expected ${conversations}`);
  }
  out.listFirst = stats(firsts);
  out.listAll = stats(alls);
  return out;
}
