// A database as version 1 of the store (before conversations were trees) left it, and what the store makes of it:
// ../durable-object.test.ts's "opens a version 1 database" test. Run inside the object, on its own storage.
import { createDurableObjectStore } from "../../../src/store/durable-object/index.ts";
import type { DurableObjectStorageLike } from "../../../src/store/durable-object/types.ts";
import type { Message } from "../../../src/messages/types.ts";

/** Version 1's tables, as its schema.ts created them: no active_leaf, no forks, bodies without parentId. */
const VERSION_1 = [
  `CREATE TABLE edgechat_conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL, model TEXT NOT NULL, system TEXT, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, message_count INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    cost REAL NOT NULL, calibration TEXT, next_seq INTEGER NOT NULL)`,
  `CREATE INDEX edgechat_conversations_updated ON edgechat_conversations (updated_at DESC, id DESC)`,
  `CREATE TABLE edgechat_messages (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, images TEXT,
    PRIMARY KEY (conversation_id, seq))`,
  `CREATE UNIQUE INDEX edgechat_messages_id ON edgechat_messages (conversation_id, id)`,
  `CREATE TABLE edgechat_images (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL)`,
  `CREATE TABLE edgechat_image_chunks (hash TEXT NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (hash, n))`,
  `CREATE TABLE edgechat_schema (version INTEGER NOT NULL)`,
];
const TABLES = ["edgechat_conversations", "edgechat_messages", "edgechat_images", "edgechat_image_chunks", "edgechat_schema"];

const T = 1_764_000_000_000;
const IMAGE = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
const usage = { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, estimated_cost: 0.5 };

/**
 * "line": u1 (an image), a1, u2, a2 at seqs 0, 1, 3, 4 (a removal left the gap); "other": o1, its own line;
 * "empty": no messages. Bodies as version 1 wrote them: no parentId (but for a stray one on o1).
 */
function writeVersion1(storage: DurableObjectStorageLike): void {
  const { sql } = storage;
  storage.transactionSync(() => {
    for (const table of TABLES) sql.exec(`DROP TABLE IF EXISTS ${table}`);
    for (const statement of VERSION_1) sql.exec(statement);
    sql.exec("INSERT INTO edgechat_schema (version) VALUES (1)");
    const conversation = (id: string, updatedAt: number, count: number, nextSeq: number, [prompt, completion, cost] = [0, 0, 0]) =>
      sql.exec("INSERT INTO edgechat_conversations VALUES (?, ?, 'm', NULL, ?, ?, ?, ?, ?, ?, NULL, ?)", id, `Old ${id}`, T, updatedAt, count, prompt, completion, cost, nextSeq);
    conversation("line", T + 4, 4, 5, [10, 2, 0.5]);
    conversation("other", T + 2, 1, 1);
    conversation("empty", T + 1, 0, 0);
    const message = (conversationId: string, seq: number, body: object, images: string | null = null) =>
      sql.exec("INSERT INTO edgechat_messages VALUES (?, ?, ?, ?, ?)", conversationId, seq, (body as { id: string }).id, JSON.stringify(body), images);
    message("line", 0, { id: "u1", role: "user", createdAt: T, content: [{ type: "text", text: "look" }, { type: "image", hash: "h1", mimeType: "image/png" }] }, '["h1"]');
    message("line", 1, { id: "a1", role: "assistant", createdAt: T + 1, content: "a cat", status: "complete" });
    message("line", 3, { id: "u2", role: "user", createdAt: T + 3, content: "and now?" });
    message("line", 4, { id: "a2", role: "assistant", createdAt: T + 4, content: "a dog", status: "complete", usage });
    // A field version 1 knew nothing of, stored as the caller gave it: a first message has no parent.
    message("other", 0, { id: "o1", role: "user", createdAt: T + 2, content: "hello", parentId: "u2" });
    sql.exec("INSERT INTO edgechat_images VALUES ('h1', ?, 1)", IMAGE.length);
    sql.exec("INSERT INTO edgechat_image_chunks VALUES ('h1', 0, ?)", IMAGE);
  });
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a?.length === b.length && a.every((x, i) => x === b[i]);
const links = (messages: readonly Message[]) => messages.map(({ id, parentId }) => (parentId === undefined ? { id } : { id, parentId }));

/** Writes version 1's tables, opens a store on them, and reports what it reads and what its tree calls do. */
export async function openVersion1(storage: DurableObjectStorageLike) {
  writeVersion1(storage);
  const store = createDurableObjectStore(storage);
  const version = () => storage.sql.exec("SELECT version FROM edgechat_schema").toArray();
  const path = async (id: string) => links((await store.loadMessages(id, { limit: Infinity })).messages);
  const opened = {
    version: version(),
    conversations: (await store.list()).conversations,
    line: await path("line"),
    other: await path("other"),
    empty: await path("empty"),
    image: sameBytes(((await store.loadMessages("line")).messages[0]!.content as readonly { data?: Uint8Array }[])[1]?.data, IMAGE),
  };

  // A regeneration of a2 finds its first version through the parent links the upgrade wrote.
  await store.appendMessage("line", { id: "a2b", role: "assistant", createdAt: T + 5, content: "a fox", status: "complete", parentId: "u2" });
  const regenerated = { meta: await store.get("line"), path: await path("line") };
  const switched = { leaf: await store.switchTo("line", "a2"), path: await path("line") };
  await store.appendMessage("line", { id: "u3", role: "user", createdAt: T + 6, content: "thanks" });
  const appended = await path("line");
  const exported = await store.export("line");
  await store.removeMessages("line", ["u1"]);
  const removed = {
    meta: await store.get("line"),
    images: storage.sql.exec("SELECT hash FROM edgechat_images").toArray(),
    chunks: storage.sql.exec("SELECT hash FROM edgechat_image_chunks").toArray(),
  };
  // Opened again, the database is current: nothing is upgraded twice.
  const again = createDurableObjectStore(storage);
  const reopened = { version: version(), other: links((await again.loadMessages("other")).messages), meta: await again.get("other") };
  return {
    opened,
    regenerated,
    switched,
    appended,
    exported: { version: exported.version, activeLeaf: exported.activeLeaf, messages: links(exported.messages as Message[]) },
    removed,
    reopened,
  };
}
