import type { DurableObjectNamespace, DurableObjectState, SqlStorage } from "../platform.js";

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the window after this one (0 when refused). */
  remaining: number;
  /** When refused: milliseconds until a request would be allowed again. */
  retryAfterMs: number;
}

/**
 * A sliding-window log per client: one Durable Object per client key (`idFromName`), one SQLite row per
 * accepted request. A request is allowed while fewer than `limit` rows are younger than the window; when
 * refused, Retry-After is the time until the oldest row that keeps it refused leaves the window. Exact (no
 * bucket approximation) and small: at most `limit` rows per client, pruned on every call.
 *
 * The object's requests run one at a time against its own storage (SQL calls are synchronous), so two
 * concurrent requests of one client cannot both take the last slot.
 */
export class RateLimiter {
  readonly #sql: SqlStorage;

  constructor(state: DurableObjectState, _env: unknown) {
    this.#sql = state.storage.sql;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL)");
  }

  async fetch(request: Request): Promise<Response> {
    const { limit, windowMs } = (await request.json()) as { limit: number; windowMs: number };
    return Response.json(this.hit(limit, windowMs, Date.now()));
  }

  hit(limit: number, windowMs: number, now: number): RateLimitDecision {
    const sql = this.#sql;
    sql.exec("DELETE FROM hits WHERE at <= ?", now - windowMs);
    const count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hits").one().n;
    if (count >= limit) {
      // The window must drop (count - limit + 1) rows before one more fits: wait for the youngest of those.
      const row = sql.exec<{ at: number }>("SELECT at FROM hits ORDER BY at LIMIT 1 OFFSET ?", count - limit).one();
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, row.at + windowMs - now) };
    }
    sql.exec("INSERT INTO hits (at) VALUES (?)", now);
    return { allowed: true, remaining: limit - count - 1, retryAfterMs: 0 };
  }
}

/** Ask the client's limiter object whether one more request fits. */
export async function takeRateLimit(ns: DurableObjectNamespace, client: string, limit: number, windowSeconds: number): Promise<RateLimitDecision> {
  const stub = ns.get(ns.idFromName(`client:${client}`));
  const response = await stub.fetch("https://rate-limiter.internal/hit", {
    method: "POST",
    body: JSON.stringify({ limit, windowMs: Math.round(windowSeconds * 1000) }),
  });
  return (await response.json()) as RateLimitDecision;
}

/** The client's key: Cloudflare sets CF-Connecting-IP (clients cannot forge it there); locally it may be absent. */
export function clientKey(request: Request): string {
  return request.headers.get("cf-connecting-ip")?.trim() || "local";
}
