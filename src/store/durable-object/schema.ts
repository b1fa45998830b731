// The tables, in the Durable Object's own SQLite database (prefixed, so they sit beside the class's own tables).
import type { DurableObjectStorageLike } from "./types.js";

export const SCHEMA_VERSION = 1;

const TABLES = [
  // One row per conversation: the meta `list()` shows, and the seq the next message gets.
  `CREATE TABLE IF NOT EXISTS edgechat_conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    system TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    message_count INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    calibration TEXT,
    next_seq INTEGER NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS edgechat_conversations_updated ON edgechat_conversations (updated_at DESC, id DESC)`,
  // `body`: the message as JSON, images replaced by their hash; `images`: those hashes (JSON array), or NULL.
  `CREATE TABLE IF NOT EXISTS edgechat_messages (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    images TEXT,
    PRIMARY KEY (conversation_id, seq)
  )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS edgechat_messages_id ON edgechat_messages (conversation_id, id)`,
  // Each distinct image once, with the number of image parts that use it.
  `CREATE TABLE IF NOT EXISTS edgechat_images (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL)`,
  // Its bytes, in chunks: SQLite in a Durable Object refuses a BLOB over 2 MiB.
  `CREATE TABLE IF NOT EXISTS edgechat_image_chunks (hash TEXT NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (hash, n))`,
  // Which layout the tables have, for the upgrades of later versions.
  `CREATE TABLE IF NOT EXISTS edgechat_schema (version INTEGER NOT NULL)`,
];

/** Creates what is missing; cheap when everything exists. */
export function ensureSchema(storage: DurableObjectStorageLike): void {
  storage.transactionSync(() => {
    for (const statement of TABLES) storage.sql.exec(statement);
    if (storage.sql.exec("SELECT version FROM edgechat_schema").toArray().length === 0) {
      storage.sql.exec("INSERT INTO edgechat_schema (version) VALUES (?)", SCHEMA_VERSION);
    }
  });
}
