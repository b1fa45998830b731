// A generation's tables, in its own object's SQLite database: one row of state, and its events in batches (one
// row per flush, holding that flush's events as SSE text), so the bytes stored are the bytes sent plus a row header.
import type { EndReason } from "./ending.js";
import type { RelayLimits } from "./limits.js";
import type { RelayStorageLike, SqlValue } from "./types.js";

export interface GenerationState {
  id: string;
  /** ownerDigest() of the client that started it. */
  owner: string;
  /** Set when it ended; undefined while streaming. */
  reason: EndReason | "done" | undefined;
  startedAt: number;
  /** When the alarm deletes it (finished generations only). */
  expiresAt: number | undefined;
  limits: RelayLimits;
  /** The model asked for: the envelope of an ending written before any chunk arrived. */
  model: string;
}

const TABLES = [
  `CREATE TABLE IF NOT EXISTS edgechat_generation (
    id TEXT NOT NULL, owner TEXT NOT NULL, reason TEXT, started_at INTEGER NOT NULL, expires_at INTEGER,
    limits TEXT NOT NULL, model TEXT NOT NULL
  )`,
  // first_id is the rowid: finding the batch that holds an id is a lookup, not a scan.
  `CREATE TABLE IF NOT EXISTS edgechat_generation_events (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, text TEXT NOT NULL)`,
];

/**
 * The stored state, or undefined. Reading never creates anything: a request for a guessed id leaves no database
 * behind.
 */
export function readState(storage: RelayStorageLike): GenerationState | undefined {
  const exists = storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edgechat_generation'").toArray().length > 0;
  const row = exists ? storage.sql.exec("SELECT * FROM edgechat_generation").toArray()[0] : undefined;
  if (!row) return undefined;
  return {
    id: String(row.id),
    owner: String(row.owner),
    reason: (row.reason ?? undefined) as GenerationState["reason"],
    startedAt: Number(row.started_at),
    expiresAt: row.expires_at === null ? undefined : Number(row.expires_at),
    limits: JSON.parse(String(row.limits)),
    model: String(row.model),
  };
}

/** The first write of a generation: its tables and its state (when the upstream has answered with a stream). */
export function createState(storage: RelayStorageLike, state: GenerationState): void {
  storage.transactionSync(() => {
    for (const statement of TABLES) storage.sql.exec(statement);
    storage.sql.exec(
      "INSERT INTO edgechat_generation (id, owner, reason, started_at, expires_at, limits, model) VALUES (?, ?, NULL, ?, NULL, ?, ?)",
      state.id, state.owner, state.startedAt, JSON.stringify(state.limits), state.model,
    );
  });
}

export interface Batch {
  firstId: number;
  lastId: number;
  text: string;
}

/** One flush: a row for its events and, when the generation ends with it, its state, in one transaction. */
export function writeBatch(storage: RelayStorageLike, batch: Batch | undefined, end?: { reason: GenerationState["reason"]; expiresAt: number }): void {
  storage.transactionSync(() => {
    if (batch) storage.sql.exec("INSERT INTO edgechat_generation_events (first_id, last_id, text) VALUES (?, ?, ?)", batch.firstId, batch.lastId, batch.text);
    if (end) storage.sql.exec("UPDATE edgechat_generation SET reason = ?, expires_at = ?", end.reason ?? null, end.expiresAt);
  });
}

/** The stored batches that hold ids after `after`, in order (the first may start at or before it). */
export function batchesAfter(storage: RelayStorageLike, after: number): Batch[] {
  const rows = storage.sql.exec(
    `SELECT first_id, last_id, text FROM edgechat_generation_events
      WHERE first_id >= (SELECT ifnull(max(first_id), 0) FROM edgechat_generation_events WHERE first_id <= ?) AND last_id > ?
      ORDER BY first_id`,
    after + 1, after,
  ).toArray();
  return rows.map((r: Record<string, SqlValue>) => ({ firstId: Number(r.first_id), lastId: Number(r.last_id), text: String(r.text) }));
}

/** The last id stored and the last batch's text (to find the last chunk), for an ending written after an eviction. */
export function lastBatch(storage: RelayStorageLike): Batch | undefined {
  const row = storage.sql.exec("SELECT first_id, last_id, text FROM edgechat_generation_events ORDER BY first_id DESC LIMIT 1").toArray()[0];
  return row && { firstId: Number(row.first_id), lastId: Number(row.last_id), text: String(row.text) };
}
