// The chaos run through the relay: edgechat/relay in workerd (miniflare, relay-worker.ts) in front of the chaos
// upstream, and between the client and the relay a proxy (reader-proxy.ts) that cuts the reader's connection
// mid-event, mid-character or just before the finish, ends it early, or stalls it (silent, or with keep-alives only),
// at seeded points, on the POST that starts a reply and on the GETs that resume it. Conversations run many at once.
//   - Through the relay every reply ends complete with exactly the upstream's text, from ONE upstream request, and
//     each resume asks for the events after the last one the client had whole (Last-Event-ID).
//   - The same faults on the same replies with no relay (the proxy in front of the upstream itself) end the way
//     chaos.test.ts expects of them: StreamInterruptedError or TimeoutError, the reply interrupted.
//   - What a relay cannot mend: the upstream's own connection dropped mid-reply ends the reply interrupted (the
//     relay's cancelled ending), still from one upstream request, with a prefix of its text.
//   CHAOS_RELAY_TURNS (default 300), CHAOS_RELAY_DROPS_TURNS (default 150), CHAOS_SEED, CHAOS_CONCURRENCY (default 50).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation } from "../../src/conversation/conversation.ts";
import type { Reply } from "../../src/conversation/reply.ts";
import { createClient } from "../../src/index.ts";
import type { AssistantMessage } from "../../src/messages/types.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { rng } from "../helpers/chunking.ts";
import { bundle, options } from "../store/durable-object/workerd.ts";
import { EXPECTED_ERROR, type Fault, type Sent } from "./faults.ts";
import { type Decide, type Passed, READER_WEIGHTS, type ReaderFault, type ReaderProxy, startReaderProxy } from "./reader-proxy.ts";
import { type ChaosServer, hash, pick, startChaosServer } from "./server.ts";

const TURNS = Number(process.env.CHAOS_RELAY_TURNS ?? 300);
const DROPS_TURNS = Number(process.env.CHAOS_RELAY_DROPS_TURNS ?? 150);
const SEED = Number(process.env.CHAOS_SEED ?? 20261125) + 2;
/** Conversations at once: all of them by default (a turn takes about a second here, most of it waiting). */
const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 50);
const TURNS_PER_CONVERSATION = 6;
/**
 * The client's idleTimeout: what a stall costs. Longer than chaos.test.ts's 500 ms, because here the upstream paces its
 * reply and the relay runs in workerd beside it: on a loaded CI machine a healthy stream can pause for a second.
 */
const IDLE_MS = 2000;
const TURN_DEADLINE_MS = 15_000;
/**
 * Between content deltas at the upstream: a reply takes up to 0.8 s, and a resume comes 0.4–0.5 s after its cut (the
 * first retry's backoff), so resumes meet both generations still streaming (the live tail) and finished ones.
 */
const PACE_MS = 100;
const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
/** The faults a resume (GET) may meet: at most two faults per reply, which the default retry budget (2) covers. */
const RESUME_FAULTS = { ...READER_WEIGHTS, ok: 0 };
const RESUME_FAULT_RATE = 0.35;
const MAX_FAULTS_PER_REPLY = 2;
/** The upstream's mid-stream drops, for the run that shows what the relay cannot mend. */
const UPSTREAM_DROPS: Partial<Record<Fault, number>> = { ok: 3, "drop-mid-event": 1, "drop-mid-char": 1, "drop-before-finish": 1, "clean-close-before-finish": 1 };

let dir: string;
let relay: Miniflare;
let relayURL: URL;
const closing: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgechat-chaos-relay-"));
  const code = await bundle("test/chaos/relay-worker.ts");
  relay = new Miniflare(options(code, dir, { className: "ChaosGenerations", binding: "GENERATIONS" }));
  relayURL = await relay.unsafeGetDirectURL();
});
afterAll(async () => {
  for (const close of closing) await close();
  await relay?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function chaosServer(options: Parameters<typeof startChaosServer>[2]): Promise<ChaosServer> {
  const server = await startChaosServer(SEED, 1500, options);
  closing.push(() => server.close());
  return server;
}

async function readerProxy(target: string): Promise<ReaderProxy> {
  const proxy = await startReaderProxy(target, planner());
  closing.push(() => proxy.close());
  return proxy;
}

/**
 * The faults, seeded by reply and connection (not by arrival order): the POST that starts a reply draws from
 * READER_WEIGHTS, each resume may meet one more, up to two a reply. The same reply gets the same plan in every run.
 */
function planner(): Decide {
  const connections = new Map<string, number>();
  const faults = new Map<string, number>();
  return ({ method, conversation, turn }) => {
    const reply = `${conversation}#${turn}`;
    const n = connections.get(reply) ?? 0;
    connections.set(reply, n + 1);
    const random = rng(SEED ^ hash(`${reply}#${n}`));
    const struck = faults.get(reply) ?? 0;
    let fault: ReaderFault = "ok";
    if (method === "POST") fault = pick(random, READER_WEIGHTS);
    else if (struck < MAX_FAULTS_PER_REPLY && random() < RESUME_FAULT_RATE) fault = pick(random, RESUME_FAULTS);
    if (fault !== "ok") faults.set(reply, struck + 1);
    // A reply is role, 1–8 deltas, finish, [DONE]: events 1 and 2 are always there and never [DONE]. A resume's
    // answer may hold only the finish and [DONE].
    const at = method === "POST" ? 1 + Math.floor(random() * 2) : Math.floor(random() * 2);
    return { fault, at, share: random(), ghost: random() < 0.5 };
  };
}

interface Figures {
  label: string;
  seed: number;
  turns: number;
  /** Replies whose POST was planned a fault: the same in every run of one seed. */
  plannedFirst: number;
  /** Faults that struck, on the POSTs and on the resumes. */
  struck: Partial<Record<ReaderFault, number>>;
  /** Replies whose first connection was struck. */
  struckFirst: number;
  resumes: number;
  /** Resumes that arrived while the upstream was still sending the reply (the relay's live tail). */
  liveResumes: number;
  /** Idle timeouts on a connection the proxy did not stall (a loaded machine), resumed or failed like any other. */
  unplannedTimeouts: number;
  upstreamRequests: number;
  upstreamFaults: Partial<Record<Fault, number>>;
  outcomes: Record<string, number>;
  hung: number;
  ms: number;
}

interface Turn {
  id: string;
  index: number;
  turn: number;
  message: AssistantMessage | undefined;
  error: unknown;
  deltas: string;
  /** What the upstream received for this reply. */
  sent: Sent[];
  /** What went through the proxy for this reply, in order. */
  passed: Passed[];
  /** The errors the client retried after (onRetry), in order: the cause of each resume. */
  retried: string[];
}

/** Run a reply to its end (iterating it, as a page would), within the turn deadline. */
async function settle(reply: Reply, figures: Figures, what: string): Promise<Pick<Turn, "message" | "error" | "deltas">> {
  let deltas = "";
  const finished = (async () => {
    try {
      for await (const d of reply) deltas += d;
    } catch {}
    return reply.done.then(
      (message) => ({ message, error: undefined as unknown, deltas }),
      (error: unknown) => ({ message: undefined, error, deltas }),
    );
  })();
  const outcome = await Promise.race([finished, new Promise<"hung">((r) => setTimeout(() => r("hung"), TURN_DEADLINE_MS))]);
  if (outcome === "hung") {
    figures.hung++;
    throw new Error(`${what} hung`);
  }
  return outcome;
}

/**
 * Conversations of TURNS_PER_CONVERSATION turns each, CONCURRENCY at once, through `proxy` to whatever it fronts;
 * `check` is called after each turn. Conversation ids and texts depend on the seed and index only, so two runs with
 * the same seed send the same messages and (from chaos servers of the same seed) get the same upstream texts.
 */
async function chaosRun(label: string, proxy: ReaderProxy, upstream: ChaosServer, turns: number, check: (turn: Turn, figures: Figures) => void): Promise<Figures> {
  const started = Date.now();
  const figures: Figures = {
    label, seed: SEED, turns: 0, plannedFirst: 0, struck: {}, struckFirst: 0, resumes: 0, liveResumes: 0, unplannedTimeouts: 0,
    upstreamRequests: 0, upstreamFaults: {}, outcomes: {}, hung: 0, ms: 0,
  };
  const store = createMemoryStore();
  const total = Math.ceil(turns / TURNS_PER_CONVERSATION);
  let next = 0;
  const conversation = async (index: number) => {
    const id = `relay-chaos-${SEED}-${index}`;
    const random = rng(SEED + index * 7919);
    let turn = 0;
    let retried: string[] = [];
    // Each request says which reply it is for: the proxy plans by it, the relay passes it to the upstream's log.
    const tagged: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set("x-chaos-turn", String(turn));
      return fetch(input, { ...init, headers });
    };
    const client = createClient({
      baseURL: `${proxy.url}/v1/openai`,
      maxRetries: 2,
      idleTimeout: IDLE_MS,
      timeout: 10_000,
      headers: { "x-chaos-conversation": id, "x-chaos-upstream": upstream.baseURL },
      fetch: tagged,
      onRetry: ({ error }) => void retried.push(error.name),
    });
    const chat = await Conversation.create(store, { client, model: MODEL, id });
    try {
      // A fixed share of the turns per conversation (not "until the total is reached", which depends on timing).
      for (const count = Math.min(TURNS_PER_CONVERSATION, turns - index * TURNS_PER_CONVERSATION); turn < count; turn++) {
        figures.turns++;
        retried = [];
        const reply = chat.send(`conversation ${index}, turn ${turn}: ${"é🦙日".slice(0, 1 + Math.floor(random() * 3))} ${random().toString(36).slice(2)}`);
        const outcome = await settle(reply, figures, `turn ${turn} of conversation ${index}`);
        await chat.flush();
        const sent = (upstream.log.get(id) ?? []).filter((s) => s.turn === turn);
        const passed = proxy.log.filter((p) => p.conversation === id && p.turn === turn);
        figures.upstreamRequests += sent.length;
        for (const s of sent) figures.upstreamFaults[s.fault] = (figures.upstreamFaults[s.fault] ?? 0) + 1;
        for (const p of passed) if (p.applied !== "ok") figures.struck[p.applied] = (figures.struck[p.applied] ?? 0) + 1;
        if (passed[0] && passed[0].applied !== "ok") figures.struckFirst++;
        if (passed[0] && passed[0].plan.fault !== "ok") figures.plannedFirst++;
        const resumes = passed.slice(1);
        figures.resumes += resumes.length;
        figures.liveResumes += resumes.filter((p) => sent[0]?.endedAt !== undefined && p.time < sent[0].endedAt).length;
        const status = outcome.message?.status ?? `${(chat.messages.at(-1) as AssistantMessage).status} (${(outcome.error as Error).name})`;
        figures.outcomes[status] = (figures.outcomes[status] ?? 0) + 1;
        check({ id, index, turn, ...outcome, sent, passed, retried }, figures);
        // The stored reply is the one the conversation holds.
        expect((await store.loadMessages(id, { limit: 1000 })).messages).toEqual(chat.messages);
      }
    } finally {
      chat.close();
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, total) }, async () => {
      while (next < total) await conversation(next++);
    }),
  );
  figures.ms = Date.now() - started;
  mkdirSync(".ci-out", { recursive: true });
  writeFileSync(`.ci-out/chaos-${label}.json`, JSON.stringify(figures, null, 2));
  console.log(`chaos (${label}): ${JSON.stringify(figures)}`);
  expect(figures.turns).toBe(turns);
  expect(figures.hung).toBe(0);
  return figures;
}

const STALLS = new Set<ReaderFault>(["stall", "keepalive-forever"]);

/**
 * Each resume is a GET of the reply's generation, caused by the fault on the connection before it, and asks for the
 * events after the last one the client had whole. A cut connection (StreamInterruptedError) delivered every whole
 * event it passed on: Last-Event-ID is exactly the last of them (or, if it passed none, where that connection began).
 * An idle timeout (TimeoutError) may abort before the client has read the last events passed on (its timer can fire
 * before the socket is read on a loaded machine), and may come with no stall planned: Last-Event-ID is then between
 * where that connection began and the last event it passed on.
 */
function checkResumes(t: Turn, figures: Figures): void {
  const { passed, retried } = t;
  const where = (i: number) => `resume ${i} of ${t.id}#${t.turn} after ${retried[i - 1]}: ${JSON.stringify(passed)}`;
  expect(passed[0]?.method, "a reply starts with its POST").toBe("POST");
  expect(retried, `one retry per resume: ${JSON.stringify(passed)}`).toHaveLength(passed.length - 1);
  passed.slice(1).forEach((p, at) => {
    const i = at + 1;
    const before = passed[at]!;
    expect(p.method, where(i)).toBe("GET");
    expect(p.path).toMatch(/^\/v1\/openai\/generations\/[A-Za-z0-9_-]{22}$/);
    expect(p.path).toBe(passed[1]!.path);
    const began = before.lastEventId; // undefined for the POST: nothing read yet
    const reached = before.lastId ?? began;
    if (retried[at] === "StreamInterruptedError") {
      expect(["drop-mid-event", "drop-mid-char", "drop-before-finish", "clean-close-before-finish"], where(i)).toContain(before.applied);
      expect(p.lastEventId, where(i)).toBe(reached);
    } else {
      expect(retried[at], where(i)).toBe("TimeoutError");
      if (!STALLS.has(before.applied)) figures.unplannedTimeouts++;
      expect(Number(p.lastEventId ?? 0), where(i)).toBeGreaterThanOrEqual(Number(began ?? 0));
      expect(Number(p.lastEventId ?? 0), where(i)).toBeLessThanOrEqual(Number(reached ?? 0));
    }
  });
}

describe("chaos on the reader's connection", () => {
  let withRelay: Figures | undefined;

  it(`${TURNS} turns through the relay: every reply complete with the upstream's exact text, one upstream request each`, async () => {
    const upstream = await chaosServer({ weights: { ok: 1 }, paceMs: PACE_MS });
    const proxy = await readerProxy(relayURL.origin);
    const figures = await chaosRun("relay", proxy, upstream, TURNS, (t, figures) => {
      const what = () => `${t.id} turn ${t.turn} (${String(t.error)}; ${JSON.stringify(t.passed)})`;
      expect(t.sent, `upstream requests of ${what()}`).toHaveLength(1);
      expect(t.error, what()).toBeUndefined();
      expect(t.message?.status).toBe("complete");
      expect(t.message?.content).toBe(t.sent[0]!.text);
      expect(t.deltas).toBe(t.sent[0]!.text);
      checkResumes(t, figures);
    });
    withRelay = figures;
    // Most replies met a fault, every kind struck many times, and resumes met both a finished and a live generation.
    expect(figures.struckFirst).toBeGreaterThan(TURNS / 2);
    if (TURNS >= 200) for (const fault of Object.keys(READER_WEIGHTS).filter((f) => f !== "ok")) expect(figures.struck[fault as ReaderFault], fault).toBeGreaterThan(5);
    expect(figures.liveResumes).toBeGreaterThan(0);
    expect(figures.resumes - figures.liveResumes).toBeGreaterThan(0);
    expect(figures.outcomes).toEqual({ complete: TURNS });
    expect(figures.unplannedTimeouts, "idle timeouts no stall planned").toBeLessThan(TURNS / 20);
  }, 120_000);

  it(`the same faults on the same ${TURNS} replies without the relay end interrupted, as chaos.test.ts expects`, async () => {
    const upstream = await chaosServer({ weights: { ok: 1 }, paceMs: PACE_MS });
    const proxy = await readerProxy(new URL(upstream.baseURL).origin);
    let failedUnstruck = 0;
    const figures = await chaosRun("relay-contrast", proxy, upstream, TURNS, (t, figures) => {
      const [only, ...more] = t.passed;
      const what = () => `${t.id} turn ${t.turn} after ${only!.applied} (${String(t.error)}; ${JSON.stringify(t.passed)})`;
      expect(more, "nothing to resume from").toEqual([]);
      expect(t.sent).toHaveLength(1);
      const text = t.sent[0]!.text;
      const expected = EXPECTED_ERROR[only!.applied];
      const name = (t.error as Error | undefined)?.name;
      if (expected === undefined && name === undefined) {
        expect(t.message?.status, what()).toBe("complete");
        expect(t.message?.content, what()).toBe(text);
      } else {
        // An idle timeout on a loaded machine may come first, before or instead of the planned fault.
        if (name === "TimeoutError" && !STALLS.has(only!.applied)) figures.unplannedTimeouts++;
        if (only!.applied === "ok") failedUnstruck++;
        expect([expected, "TimeoutError"], what()).toContain(name);
        expect(text.startsWith(t.deltas), what()).toBe(true);
      }
    });
    // The same replies met the same faults on their POST as in the run through the relay; here each of those failed.
    if (withRelay) expect(figures.plannedFirst).toBe(withRelay.plannedFirst);
    expect(figures.struckFirst).toBeGreaterThan(TURNS / 2);
    const failed = TURNS - (figures.outcomes.complete ?? 0);
    expect(failed).toBe(figures.struckFirst + failedUnstruck);
    expect(figures.unplannedTimeouts, "idle timeouts no stall planned").toBeLessThan(TURNS / 20);
    expect(Object.keys(figures.outcomes).filter((o) => o !== "complete").every((o) => /^(interrupted|error) \((StreamInterruptedError|TimeoutError)\)$/.test(o))).toBe(true);
  }, 120_000);

  it(`${DROPS_TURNS} turns whose upstream drops mid-reply behind the relay: interrupted, a prefix of the text, still one upstream request`, async () => {
    const upstream = await chaosServer({ weights: UPSTREAM_DROPS, paceMs: PACE_MS });
    const proxy = await readerProxy(relayURL.origin);
    const figures = await chaosRun("relay-upstream-drops", proxy, upstream, DROPS_TURNS, (t, figures) => {
      const what = () => `${t.id} turn ${t.turn} after the upstream's ${t.sent[0]?.fault} (${String(t.error)}; ${JSON.stringify(t.passed)})`;
      expect(t.sent, `upstream requests of ${what()}`).toHaveLength(1);
      const { fault, text } = t.sent[0]!;
      expect(t.error, what()).toBeUndefined();
      if (fault === "ok") {
        expect(t.message?.status, what()).toBe("complete");
        expect(t.message?.content).toBe(text);
      } else {
        // The relay ends it (finish_reason "cancelled", edgechat_reason "upstream_dropped"); continue() is the fallback.
        expect(t.message?.status, what()).toBe("interrupted");
        expect(text.startsWith(t.message!.content), what()).toBe(true);
      }
      expect(t.deltas).toBe(t.message?.content);
      checkResumes(t, figures);
    });
    for (const fault of Object.keys(UPSTREAM_DROPS)) expect(figures.upstreamFaults[fault as Fault], fault).toBeGreaterThan(0);
    expect(figures.upstreamRequests).toBe(DROPS_TURNS);
  }, 120_000);
});
