import type { DurableObjectNamespace, DurableObjectState, SqlStorage } from "../platform.js";

/** Attempts are forgotten after this: the same words sent again later fail again. */
const TTL_MS = 5 * 60_000;

/**
 * Counts how often the simulator has seen one exact request body (by SHA-256), so `/ratelimit` can fail
 * the first tries and let the client's retry through: a retry re-sends the very same bytes. One object for
 * the whole simulator (it is a demo); rows older than 5 minutes are deleted on each call.
 */
export class SimulatorState {
  readonly #sql: SqlStorage;

  constructor(state: DurableObjectState, _env: unknown) {
    this.#sql = state.storage.sql;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS attempts (key TEXT PRIMARY KEY, count INTEGER NOT NULL, first_at INTEGER NOT NULL)");
  }

  async fetch(request: Request): Promise<Response> {
    const { key } = (await request.json()) as { key: string };
    const now = Date.now();
    this.#sql.exec("DELETE FROM attempts WHERE first_at <= ?", now - TTL_MS);
    this.#sql.exec("INSERT INTO attempts (key, count, first_at) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET count = count + 1", key, now);
    const { count } = this.#sql.exec<{ count: number }>("SELECT count FROM attempts WHERE key = ?", key).one();
    return Response.json({ attempt: count });
  }
}

/** 1 for the first time this body is seen (within 5 minutes), 2 for the second, … */
export async function countAttempt(ns: DurableObjectNamespace, body: string): Promise<number> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const key = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const response = await ns.get(ns.idFromName("simulator")).fetch("https://simulator.internal/attempt", { method: "POST", body: JSON.stringify({ key }) });
  return ((await response.json()) as { attempt: number }).attempt;
}
