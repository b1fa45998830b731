// The relay's test Worker (bundled by workerd.ts with vite, run in workerd by miniflare, no nodejs_compat).
//   POST /chat, /v1/chat/completions  start a generation (the body is the chat request); owner = x-client + Origin;
//                                limits from the x-limits header (JSON), so each test picks small caps
//   GET|DELETE /generations/<id> the relay's routes
//   GET /inspect/<id>            what the object holds: its tables, its alarm, the writes it made (TestGenerations)
//   POST /plain                  the same upstream call made here and passed on as it is: a plain proxy (the bench)
import { createRelay, GenerationRelayObject, type RelayStateLike, type UpstreamCall } from "../../src/relay/index.ts";

interface Env {
  GENERATIONS: { idFromName(name: string): unknown; get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> } };
  /** The local upstream's base URL. */
  UPSTREAM: string;
  /** A canary: it must reach the upstream, and nothing stored or sent to a reader. */
  API_KEY: string;
}

/** Per object instance: every storage write, counted where the relay makes it. */
interface Writes {
  transactions: number;
  /** When each transaction ran (Date.now() in the object). */
  times: number[];
  statements: string[];
  alarms: number;
  /** When the object's alarm() ran. */
  fired: number[];
}

/** Objects constructed in this isolate: a second one for the same generation means it was evicted and came back. */
const constructed = new Map<string, number>();

function counting(ctx: RelayStateLike & { id: { toString(): string } }, writes: Writes): RelayStateLike {
  const storage = ctx.storage;
  return {
    waitUntil: (promise) => ctx.waitUntil(promise),
    storage: {
      sql: {
        exec(query, ...bindings) {
          if (/^\s*(INSERT|UPDATE|DELETE|CREATE)/i.test(query)) writes.statements.push(query.trim().split(/\s+/).slice(0, 3).join(" "));
          return storage.sql.exec(query, ...bindings);
        },
      },
      transactionSync(fn) {
        writes.transactions++;
        writes.times.push(Date.now());
        return storage.transactionSync(fn);
      },
      setAlarm(time) {
        writes.alarms++;
        return storage.setAlarm(time);
      },
      deleteAlarm: () => storage.deleteAlarm(),
      deleteAll: () => storage.deleteAll(),
    },
  };
}

export class TestGenerations extends GenerationRelayObject<Env> {
  readonly #writes: Writes;
  readonly #raw: RelayStateLike & { id: { toString(): string }; storage: { getAlarm(): Promise<number | null> } };

  constructor(ctx: RelayStateLike & { id: { toString(): string } }, env: Env) {
    const writes: Writes = { transactions: 0, times: [], statements: [], alarms: 0, fired: [] };
    super(counting(ctx, writes), env);
    this.#writes = writes;
    this.#raw = ctx as never;
    const id = ctx.id.toString();
    constructed.set(id, (constructed.get(id) ?? 0) + 1);
  }

  protected upstream({ body, signal }: UpstreamCall): Promise<Response> {
    return fetch(`${this.env.UPSTREAM}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.env.API_KEY}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    });
  }

  override alarm(): Promise<void> {
    this.#writes.fired.push(Date.now());
    return super.alarm();
  }

  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/inspect") return super.fetch(request);
    const { sql } = this.#raw.storage as unknown as { sql: { exec(q: string): { toArray(): Record<string, unknown>[] } } };
    const tables = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'edgechat%' ORDER BY name").toArray().map((r) => r.name);
    const has = (name: string) => tables.includes(name);
    return Response.json({
      tables,
      state: has("edgechat_generation") ? sql.exec("SELECT * FROM edgechat_generation").toArray() : [],
      rows: has("edgechat_generation_events") ? sql.exec("SELECT first_id, last_id, text FROM edgechat_generation_events ORDER BY first_id").toArray() : [],
      alarm: await this.#raw.storage.getAlarm(),
      writes: this.#writes,
      constructed: constructed.get(this.#raw.id.toString()) ?? 0,
    });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const owner = `${request.headers.get("x-client") ?? "anonymous"}\n${request.headers.get("origin") ?? ""}`;
    const limits = JSON.parse(request.headers.get("x-limits") ?? "{}");
    const relay = createRelay(env.GENERATIONS, { path: "/generations/", limits });
    const routed = await relay.route(request, { owner });
    if (routed) return routed;
    if ((url.pathname === "/chat" || url.pathname === "/v1/chat/completions") && request.method === "POST") return relay.start({ body: await request.json(), owner });
    if (url.pathname === "/plain" && request.method === "POST") {
      const upstream = await fetch(`${env.UPSTREAM}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.API_KEY}`, "content-type": "application/json", accept: "text/event-stream" },
        body: await request.text(),
      });
      return new Response(upstream.body, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "" } });
    }
    if (url.pathname.startsWith("/inspect/")) {
      const stub = env.GENERATIONS.get(env.GENERATIONS.idFromName(url.pathname.slice("/inspect/".length)));
      return stub.fetch("https://inspect.internal/inspect");
    }
    return new Response("not found", { status: 404 });
  },
};
