// The tables, in the Durable Object's own SQLite database (prefixed, so they sit beside the class's own tables).
import { StorageError } from "../errors.js";
import type { DurableObjectStorageLike } from "./types.js";

export const SCHEMA_VERSION = 2;

const TABLES = [
  // One row per conversation: the meta `list()` shows (`forks` as JSON), and the seq the next message gets.
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
    next_seq INTEGER NOT NULL,
    active_leaf TEXT,
    forks TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS edgechat_conversations_updated ON edgechat_conversations (updated_at DESC, id DESC)`,
  // `body`: the message as JSON, its parentId included, images replaced by their hash; `images`: those hashes (JSON
  // array), or NULL. Every branch of a conversation is here, in the order stored (seq).
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

/** `UPGRADES[v]` takes a database written at version v to version v + 1. */
const UPGRADES: Record<number, readonly string[]> = {
  // Conversations became trees (issue 13). A conversation stored before was a line: each message follows the one
  // before it in seq order (a removal may have left a gap), and the last one is the active leaf; a line has no forks.
  // Version 1 stored whatever fields a message had: a first message loses any parentId it came with.
  1: [
    `ALTER TABLE edgechat_conversations ADD COLUMN active_leaf TEXT`,
    `ALTER TABLE edgechat_conversations ADD COLUMN forks TEXT`,
    `UPDATE edgechat_messages
      SET body = CASE WHEN line.parent IS NULL THEN json_remove(body, '$.parentId') ELSE json_set(body, '$.parentId', line.parent) END
      FROM (SELECT conversation_id, seq, LAG(id) OVER (PARTITION BY conversation_id ORDER BY seq) AS parent FROM edgechat_messages) AS line
      WHERE line.conversation_id = edgechat_messages.conversation_id AND line.seq = edgechat_messages.seq`,
    `UPDATE edgechat_conversations SET active_leaf =
      (SELECT id FROM edgechat_messages WHERE conversation_id = edgechat_conversations.id ORDER BY seq DESC LIMIT 1)`,
  ],
};

/** Creates what is missing and upgrades a database an older version wrote, in one transaction; cheap when current. */
export function ensureSchema(storage: DurableObjectStorageLike): void {
  const { sql } = storage;
  storage.transactionSync(() => {
    for (const statement of TABLES) sql.exec(statement);
    const stored = sql.exec("SELECT version FROM edgechat_schema").toArray()[0];
    if (!stored) {
      sql.exec("INSERT INTO edgechat_schema (version) VALUES (?)", SCHEMA_VERSION);
      return;
    }
    const version = Number(stored.version);
    // A newer edgechat wrote it (a rolled-back deploy): its layout would be misread, and written over.
    if (version > SCHEMA_VERSION) throw new StorageError(`The conversations were stored by a newer edgechat (schema ${version}; this one knows ${SCHEMA_VERSION})`);
    for (let v = version; v < SCHEMA_VERSION; v++) for (const statement of UPGRADES[v]!) sql.exec(statement);
    if (version < SCHEMA_VERSION) sql.exec("UPDATE edgechat_schema SET version = ?", SCHEMA_VERSION);
  });
}
