// edgechat/relay in workerd (miniflare, SQLite-backed Durable Objects, no nodejs_compat), with a local upstream on
// 127.0.0.1 that streams a known reply in DeepInfra's format. The test Worker is worker.ts.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, MODEL, startUpstream, type Upstream, wait } from "../helpers/upstream.ts";
import { chatBody, type Event, eventsOf, KEY, open, type RelayWorker, startRelayWorker } from "./harness.ts";
import { endless, EVENTS, long, paced, PARTS, PAYLOADS } from "./upstreams.ts";

let upstream: Upstream;
let worker: RelayWorker;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgechat-relay-"));
  upstream = await startUpstream();
  worker = await startRelayWorker(join(dir, "main"), upstream.baseURL);
});
afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Everything a reader was sent in this file: none of it may hold the key. */
const sent: string[] = [];

interface As {
  client?: string;
  origin?: string;
  limits?: Record<string, number>;
}
const headersFor = ({ client = "client-a", origin, limits }: As = {}) => ({
  "x-client": client,
  ...(origin ? { origin } : {}),
  ...(limits ? { "x-limits": JSON.stringify(limits) } : {}),
});

async function start(as: As = {}, body: unknown = chatBody()) {
  const stream = await open(new URL("/chat", worker.url), { method: "POST", body: JSON.stringify(body), headers: headersFor(as) });
  const resume = stream.response.headers.get("edgechat-resume");
  return { ...stream, resume, url: resume === null ? undefined : new URL(resume, worker.url), id: resume?.split("/").pop() ?? "" };
}

async function resume(url: URL, lastEventId?: string, as: As = {}) {
  const headers: Record<string, string> = headersFor(as);
  if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
  return open(url, { headers });
}

const cancel = (url: URL, as: As = {}) => fetch(url, { method: "DELETE", headers: headersFor(as) });
const inspect = async (id: string) => (await fetch(new URL(`/inspect/${id}`, worker.url))).json();

/** What the object holds once its last write is done (up to 100 ms after the readers' streams end). */
async function settled(id: string) {
  for (let tries = 0; ; tries++) {
    const inspected = await inspect(id);
    if (inspected.state[0]?.reason || tries > 40) return inspected;
    await wait(25);
  }
}

async function read(stream: { rest(): Promise<string> }): Promise<string> {
  const text = await stream.rest();
  sent.push(text);
  return text;
}

/** The ids are 1…n in order with no gap or repeat, and the payloads are `payloads`. */
function expectEvents(events: Event[], payloads: string[]) {
  expect(events.map((e) => e.id)).toEqual(payloads.map((_, i) => String(i + 1)));
  expect(events.map((e) => e.data)).toEqual(payloads);
}

const textOf = (events: Event[]) =>
  events
    .filter((e) => e.data.startsWith("{"))
    .map((e) => JSON.parse(e.data).choices?.[0]?.delta?.content ?? "")
    .join("");

/** The relay's ending: a chat.completion.chunk with finish_reason "cancelled", the reason, then [DONE]. */
function expectEnding(events: Event[], reason: string, envelope = { id: "chatcmpl-4f1c2d", created: 1764028800, model: MODEL }) {
  const [last, done] = events.slice(-2);
  expect(done?.data).toBe("[DONE]");
  expect(JSON.parse(last!.data)).toEqual({
    ...envelope,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: {}, finish_reason: "cancelled" }],
    edgechat_reason: reason,
  });
  expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
}

describe("starting a generation", () => {
  it("streams the upstream's events, each with id 1, 2, 3…, the payloads unchanged and [DONE] last, with Edgechat-Resume", async () => {
    upstream.handle(paced(EVENTS));
    const s = await start();
    expect(s.response.status).toBe(200);
    expect(s.response.headers.get("content-type")).toBe("text/event-stream");
    expect(s.resume).toMatch(/^\/generations\/[A-Za-z0-9_-]{22}$/);
    const text = await read(s);
    expectEvents(eventsOf(text), PAYLOADS);
    expect(text).toBe(PAYLOADS.map((p, i) => `id: ${i + 1}\ndata: ${p}\n\n`).join(""));
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(upstream.requests[0]!.body).toEqual(chatBody());
  });

  it("passes the upstream's refusal on as it came (status, body, Retry-After), without Edgechat-Resume, and stores nothing", async () => {
    const before = databases();
    upstream.handle(json(429, { detail: "Rate limited" }, { "retry-after": "7" }));
    const s = await start();
    expect(s.response.status).toBe(429);
    expect(s.response.headers.get("retry-after")).toBe("7");
    expect(s.resume).toBeNull();
    expect(JSON.parse(await read(s))).toEqual({ detail: "Rate limited" });

    upstream.handle(json(200, { object: "chat.completion" }));
    const notAStream = await start();
    expect(notAStream.response.status).toBe(200);
    expect(notAStream.response.headers.get("content-type")).toBe("application/json");
    expect(notAStream.resume).toBeNull();
    expect(JSON.parse(await read(notAStream))).toEqual({ object: "chat.completion" });
    expect(databases().filter((d) => !before.includes(d)), "no object wrote anything").toEqual([]);
  });
});

describe("a reader that goes away and comes back with Last-Event-ID", () => {
  // Every place a connection can drop: at each event boundary (0 … n events read) and in the middle of each event.
  const full = PAYLOADS.map((p, i) => `id: ${i + 1}\ndata: ${p}\n\n`).join("");
  const boundaries = [0];
  for (let at = full.indexOf("\n\n"); at >= 0; at = full.indexOf("\n\n", at + 2)) boundaries.push(at + 2);
  const cuts = boundaries.flatMap((b, i) => (i + 1 < boundaries.length ? [b, Math.floor((b + boundaries[i + 1]!) / 2)] : [b]));

  it(`resumes after a drop at every event boundary and mid-event (${cuts.length} drops): the text is exactly the upstream's, from ONE upstream request each`, async () => {
    for (const cut of cuts) {
      upstream.handle(paced(EVENTS));
      const s = await start();
      const seen = (await s.until(cut)).slice(0, cut);
      s.drop();
      const before = eventsOf(seen);
      const last = before.at(-1)?.id;
      const again = await resume(s.url!, last);
      expect(again.response.status, `cut at ${cut}`).toBe(200);
      expect(again.response.headers.get("edgechat-resume")).toBe(s.resume);
      const after = eventsOf(await read(again));
      expectEvents([...before, ...after], PAYLOADS);
      expect(textOf([...before, ...after])).toBe(PARTS.join(""));
      expect(upstream.requests, `cut at ${cut}`).toHaveLength(1);
    }
  });

  it("resumes from the start without Last-Event-ID, and gets nothing more after the last id", async () => {
    upstream.handle(paced(EVENTS));
    const s = await start();
    const first = eventsOf(await read(s));
    expectEvents(eventsOf(await read(await resume(s.url!))), PAYLOADS);
    const end = await resume(s.url!, first.at(-1)!.id);
    expect(await read(end)).toBe("");
    const bad = await resume(s.url!, "seven");
    expect(bad.response.status).toBe(400);
    expect(JSON.parse(await read(bad)).error.code).toBe("invalid_last_event_id");
  });

  it("two readers at once get the same events, live", async () => {
    upstream.handle(paced(EVENTS, 10));
    const s = await start();
    await s.until(1);
    const second = await resume(s.url!);
    const [a, b] = await Promise.all([read(s), read(second)]);
    expect(b).toBe(a);
    expectEvents(eventsOf(a), PAYLOADS);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("cancel", () => {
  it("DELETE → 204 closes the upstream connection, and every reader ends with finish_reason cancelled, then [DONE]", async () => {
    upstream.handle(endless(10));
    const s = await start();
    await s.untilIncludes("tick 3 ");
    const other = await resume(s.url!, "2");
    await other.untilIncludes("tick 4 ");
    const response = await cancel(s.url!);
    expect(response.status).toBe(204);
    await upstream.requests[0]!.closed;
    const [a, b] = [eventsOf(await read(s)), eventsOf(await read(other))];
    expectEnding(a, "cancelled");
    expect(b).toEqual(a.slice(2));
    expect(upstream.requests).toHaveLength(1);
    // Cancelling again, or a finished generation, changes nothing.
    expect((await cancel(s.url!)).status).toBe(204);
    expect(eventsOf(await read(await resume(s.url!)))).toEqual(a);
  });
});

describe("caps", () => {
  it("max duration: ended with edgechat_reason max_duration, the upstream connection closed", async () => {
    upstream.handle(endless(10));
    const s = await start({ limits: { maxDurationMs: 400 } });
    const events = eventsOf(await read(s));
    expectEnding(events, "max_duration");
    await upstream.requests[0]!.closed;
    expect(events.length).toBeGreaterThan(5);
  });

  it("max bytes: the event that would pass the cap ends it instead (max_bytes); what is stored stays under the cap", async () => {
    upstream.handle(endless(2));
    const maxBytes = 3000;
    const s = await start({ limits: { maxBytes } });
    const text = await read(s);
    const events = eventsOf(text);
    expectEnding(events, "max_bytes");
    await upstream.requests[0]!.closed;
    const ending = events.slice(-2).reduce((n, e) => n + Buffer.byteLength(`id: ${e.id}\ndata: ${e.data}\n\n`), 0);
    const before = Buffer.byteLength(text) - ending;
    expect(before).toBeLessThanOrEqual(maxBytes);
    expect(before).toBeGreaterThan(maxBytes - 300);
    const stored = await settled(s.id);
    expect(stored.rows.map((r: { text: string }) => r.text).join(""), "what was stored is what was sent, but the comments").toBe(withoutComments(text));
  });

  // Retried: now and then (about 1 drop in 40 here) this workerd never tells the object that a client went away
  // (its stream goes on being pulled), and then nothing is ever detached. The cap is what this test is about.
  it("max detached time: with no reader for that long it is ended (detached) and the upstream closed; a reader back in time keeps it going", { retry: 2 }, async () => {
    upstream.handle(endless(10));
    const s = await start({ limits: { maxDetachedMs: 500 } });
    await s.untilIncludes("tick 2 ");
    s.drop();
    await wait(200);
    // Back within the cap: the generation went on meanwhile, and goes on.
    const back = await resume(s.url!, "1");
    let closed = false;
    void upstream.requests[0]!.closed.then(() => (closed = true));
    await back.untilIncludes("tick 40 ");
    expect(closed).toBe(false);
    back.drop();
    await upstream.requests[0]!.closed;
    const events = eventsOf(await read(await resume(s.url!)));
    expectEnding(events, "detached");
    expect(textOf(events)).toMatch(/^tick 1 tick 2 .*tick 40 /);
  });

  it("an upstream that drops mid-stream: ended with upstream_dropped; a reply that had its finish_reason only gets [DONE]", async () => {
    upstream.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(EVENTS.slice(0, 4).join(""));
      await wait(30);
      res.socket?.destroy();
    });
    const s = await start();
    const events = eventsOf(await read(s));
    expectEvents(events.slice(0, 4), PAYLOADS.slice(0, 4));
    expectEnding(events, "upstream_dropped");

    upstream.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(EVENTS.slice(0, -1).join(""));
      await wait(30);
      res.end();
    });
    const whole = eventsOf(await read(await start()));
    expectEvents(whole, PAYLOADS);
  });
});

describe("ids and owners", () => {
  it("a guessed id, a malformed one and another client's (or origin's) generation all get the same 404, and leave nothing behind", async () => {
    upstream.handle(paced(EVENTS));
    const s = await start({ client: "owner", origin: "https://chat.example" });
    await read(s);
    const guessed = new URL(`/generations/${"A".repeat(21)}w`, worker.url);
    const get = (url: URL, as: As) => fetch(url, { headers: headersFor(as) });
    const answers = [
      await get(guessed, { client: "owner", origin: "https://chat.example" }),
      await get(new URL("/generations/not-an-id", worker.url), { client: "owner" }),
      await get(s.url!, { client: "intruder", origin: "https://chat.example" }),
      await get(s.url!, { client: "owner", origin: "https://evil.example" }),
      await get(s.url!, { client: "owner" }),
      await cancel(s.url!, { client: "intruder", origin: "https://chat.example" }),
      await cancel(guessed, { client: "owner" }),
    ];
    const bodies = new Set<string>();
    for (const a of answers) {
      expect(a.status).toBe(404);
      expect(a.headers.get("content-type")).toBe("application/json");
      expect(a.headers.get("edgechat-resume")).toBeNull();
      bodies.add(await a.text());
    }
    expect(bodies.size).toBe(1);
    expect(JSON.parse([...bodies][0]!)).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", code: "generation_not_found" } });
    const guessedObject = await inspect(guessed.pathname.split("/").pop()!);
    expect(guessedObject).toMatchObject({ tables: [], alarm: null });
    expect(guessedObject.writes).toEqual({ transactions: 0, times: [], statements: [], alarms: 0, fired: [] });
    // The owner still reads it.
    expectEvents(eventsOf(await read(await resume(s.url!, undefined, { client: "owner", origin: "https://chat.example" }))), PAYLOADS);
  });

  it("ids are 22 base64url characters (128 random bits), all different", async () => {
    upstream.handle(paced(EVENTS.slice(-1), 0));
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const s = await start();
      await read(s);
      expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      ids.add(s.id);
    }
    expect(ids.size).toBe(20);
  });
});

describe("storage", () => {
  it("writes in batches (no two writes closer than 100 ms) and stores at most 1.2× the reply's SSE bytes", async () => {
    const reply = long(300, 40, 4);
    upstream.handle(reply.handler);
    const started = Date.now();
    const s = await start();
    const text = await read(s);
    const streamingMs = Date.now() - started;
    expect(textOf(eventsOf(text))).toBe(reply.text);
    const stored = await settled(s.id);
    expect(stored.rows.map((r: { text: string }) => r.text).join(""), "the stored batches are the SSE the reader got").toBe(text);
    // One transaction creates it; every other one is a flush (the last also marks it finished).
    const flushes = stored.writes.transactions - 1;
    expect(flushes).toBe(stored.rows.length);
    const times: number[] = stored.writes.times;
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps), `gaps between writes: ${gaps.join(", ")} ms`).toBeGreaterThanOrEqual(100);
    // So at most one write per 100 ms: the creation, one per 100 ms of streaming, and the last up to 100 ms after.
    expect(stored.writes.transactions, `${stored.writes.transactions} writes in ${streamingMs} ms`).toBeLessThanOrEqual(2 + streamingMs / 100);
    expect(stored.writes.statements.filter((q: string) => q.startsWith("INSERT INTO edgechat_generation_events"))).toHaveLength(flushes);
    // Bytes stored: the rows' text, two integers and a row header each, and the state row.
    const sseBytes = Buffer.byteLength(text);
    const storedBytes =
      stored.rows.reduce((n: number, r: { text: string }) => n + Buffer.byteLength(r.text) + 16, 0) +
      Object.values(stored.state[0] as Record<string, unknown>).reduce((n: number, v) => n + Buffer.byteLength(String(v)) + 2, 0);
    expect(storedBytes / sseBytes, `${storedBytes} bytes stored for ${sseBytes} SSE bytes`).toBeLessThanOrEqual(1.2);
  });

  it("serves events not yet written from memory: a resume right after an event misses none", async () => {
    upstream.handle(endless(5));
    const s = await start();
    const checks: Promise<void>[] = [];
    for (let i = 3; i <= 30; i += 3) {
      const seen = eventsOf(await s.untilIncludes(`tick ${i} `));
      const last = seen.at(-1)!;
      const again = await resume(s.url!, String(Number(last.id) - 2));
      const first = eventsOf(await again.until(1).then(() => again.untilIncludes("\n\n")))[0];
      checks.push(Promise.resolve(again.drop()));
      expect(first?.id).toBe(String(Number(last.id) - 1));
    }
    await cancel(s.url!);
    await Promise.all(checks);
    expectEnding(eventsOf(await read(s)), "cancelled");
  });

  it("deletes everything it stored when the retention ends (an alarm); the generation is then a 404", async () => {
    upstream.handle(paced(EVENTS));
    const s = await start({ limits: { retentionMs: 300 } });
    await read(s);
    expect((await settled(s.id)).tables).toHaveLength(2);
    await wait(1500);
    const after = await inspect(s.id);
    expect(after).toMatchObject({ tables: [], state: [], rows: [], alarm: null });
    const gone = await resume(s.url!);
    expect(gone.response.status).toBe(404);
    expect(JSON.parse(await read(gone)).error.code).toBe("generation_not_found");
  });
});

describe("the key", () => {
  it("reached the upstream, and is in nothing the relay stored or sent to a reader", async () => {
    upstream.handle(paced(EVENTS));
    const s = await start();
    await read(s);
    expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(await settled(s.id))).not.toContain(KEY);
    expect(sent.length).toBeGreaterThan(40);
    for (const text of sent) expect(text).not.toContain(KEY);
    for (const file of sqliteFiles()) expect(readFileText(file)).not.toContain(KEY);
  });
});

describe("a deploy (the runtime restarted) mid-stream", () => {
  it("keeps what was stored: a reader comes back to those events and the ending upstream_dropped", async () => {
    upstream.handle(endless(10));
    const persist = join(dir, "restart");
    const first = await startRelayWorker(persist, upstream.baseURL);
    const relative = async (w: RelayWorker, url: string, init?: Parameters<typeof open>[1]) => open(new URL(url, w.url), init);
    const s = await relative(first, "/chat", { method: "POST", body: JSON.stringify(chatBody()), headers: headersFor() });
    const resumeAt = s.response.headers.get("edgechat-resume")!;
    await s.untilIncludes("tick 30 ");
    await wait(250); // past a flush
    await first.dispose();
    await upstream.requests[0]!.closed;
    const second = await startRelayWorker(persist, upstream.baseURL);
    try {
      const events = eventsOf(await read(await relative(second, resumeAt, { headers: headersFor() })));
      expectEnding(events, "upstream_dropped");
      expect(textOf(events)).toMatch(/^tick 1 tick 2 tick 3 .*tick 30 /);
      expect(upstream.requests).toHaveLength(1);
      // A reader that saw events the old instance had not written yet (up to 100 ms of them) is past what is
      // stored: it gets the ending after its own last id, not an empty stream.
      const lastStored = Number(events.at(-3)!.id);
      const ahead = eventsOf(await read(await relative(second, resumeAt, { headers: { ...headersFor(), "last-event-id": String(lastStored + 3) } })));
      expect(ahead.map((e) => e.id)).toEqual([String(lastStored + 4), String(lastStored + 5)]);
      expect(ahead.map((e) => e.data)).toEqual(events.slice(-2).map((e) => e.data));
    } finally {
      await second.dispose();
    }
  });
});

const withoutComments = (text: string) => text.replace(/^:.*\n\n/gm, "");

/** The objects' database files (with their write-ahead logs) under the test's directory. */
function sqliteFiles(): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : /\.sqlite(-wal)?$/.test(e.name) ? [join(d, e.name)] : []));
  return walk(dir).filter((f) => statSync(f).size > 0).sort();
}

const readFileText = (file: string) => readFileSync(file).toString("latin1");

/** The objects whose database (or its log) holds a generation's table. */
const databases = () => [...new Set(sqliteFiles().filter((f) => readFileText(f).includes("edgechat_generation")).map((f) => f.replace(/-wal$/, "")))];
