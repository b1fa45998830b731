// The few workerd types this Worker uses, written out so it needs neither @cloudflare/workers-types nor Node's types.

export type SqlValue = string | number | null | ArrayBuffer;

export interface SqlCursor<T> {
  toArray(): T[];
  one(): T;
}

export interface SqlStorage {
  exec<T = Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): SqlCursor<T>;
}

/** What a SQLite-backed Durable Object receives as its first constructor argument. */
export interface DurableObjectState {
  readonly storage: { readonly sql: SqlStorage };
}

export interface DurableObjectId {
  toString(): string;
}

export interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}

/** Bindings declared in wrangler.jsonc. Vars may arrive as strings or (from JSON vars) numbers. */
export interface Env {
  /** Secret. Set: forward to DeepInfra. Unset: answer with the simulated model. */
  DEEPINFRA_TOKEN?: string;
  UPSTREAM_URL?: string;
  ALLOWED_ORIGINS?: string;
  ALLOWED_MODELS?: string;
  MAX_TOKENS_CAP?: string | number;
  MAX_BODY_BYTES?: string | number;
  RATE_LIMIT_REQUESTS?: string | number;
  RATE_LIMIT_WINDOW_SECONDS?: string | number;
  SIMULATED_TOKENS_PER_SECOND?: string | number;
  RATE_LIMITER: DurableObjectNamespace;
  SIMULATOR: DurableObjectNamespace;
  /** edgechat/relay's objects, one per streamed generation (proxy/generations.ts). */
  GENERATIONS: DurableObjectNamespace;
}
