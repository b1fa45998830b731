// A randomized, seeded run of many conversations through Conversation and a store, against the chaos
// upstream. After every turn: every accepted user message is stored exactly once and in order; every reply
// is complete with exactly the streamed text, or interrupted/error with a prefix of it; no retry duplicates
// anything; the error is the typed one for the fault met; nothing hangs.
// The contested runs add a second writer: two Conversation objects on each conversation (two tabs, two clients),
// sending at the same moment in about half the rounds; then the transcript must also be in order (user, its own
// reply, user…) and every request must have carried every earlier stored turn.
//   CHAOS_TURNS (default 1000), CHAOS_SEED (default 20261125), CHAOS_CONCURRENCY (default 16).
import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation } from "../../src/conversation/conversation.ts";
import type { Reply } from "../../src/conversation/reply.ts";
import type { AssistantMessage, Message } from "../../src/messages/types.ts";
import { createClient } from "../../src/index.ts";
import "fake-indexeddb/auto";
import { createIndexedDBStore } from "../../src/store/idb/index.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { ConversationStore } from "../../src/store/types.ts";
import { rng } from "../helpers/chunking.ts";
import { EXPECTED_ERROR, type Fault, RETRIED } from "./faults.ts";
import { type ChaosServer, startChaosServer } from "./server.ts";

const TURNS = Number(process.env.CHAOS_TURNS ?? 1000);
/** The same run through the IndexedDB store (on fake-indexeddb): slower per write, so fewer turns. */
const IDB_TURNS = Number(process.env.CHAOS_IDB_TURNS ?? 300);
/** Turns of the contested runs (two writers per conversation). */
const CONTESTED_TURNS = Number(process.env.CHAOS_CONTESTED_TURNS ?? 400);
const CONTESTED_IDB_TURNS = Number(process.env.CHAOS_CONTESTED_IDB_TURNS ?? 200);
const SEED = Number(process.env.CHAOS_SEED ?? 20261125);
const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 16);
const TURNS_PER_CONVERSATION = 10;
const IDLE_MS = 500;
const TURN_DEADLINE_MS = 15_000;

let server: ChaosServer;
beforeAll(async () => void (server = await startChaosServer(SEED, 1500)));
afterAll(() => server.close());

interface Figures {
  seed: number;
  turns: number;
  conversations: number;
  requests: number;
  faults: Partial<Record<Fault, number>>;
  recoveredByRetry: number;
  completed: number;
  surfaced: Record<string, number>;
  lost: number;
  duplicated: number;
  /** Contested runs: a reply not right after its own user message, or two messages of one role in a row. */
  outOfOrder: number;
  /** Contested runs: requests that did not carry every earlier stored turn. */
  staleRequests: number;
  hung: number;
  ms: number;
}

type Outcome = { message: AssistantMessage | undefined; error: unknown; deltas: string[] };

/** Run a reply to its end (iterating it, as a page would), within the turn deadline. */
async function settle(reply: Reply, figures: Figures, what: string): Promise<Outcome> {
  const deltas: string[] = [];
  const finished = (async () => {
    try {
      for await (const d of reply) deltas.push(d);
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

async function runConversation(index: number, store: ConversationStore, figures: Figures, limit: number, label: string): Promise<void> {
  const random = rng(SEED + index * 7919);
  const id = `chaos-${label}-${SEED}-${index}`;
  // Each request says which conversation it belongs to, so the server's log can be checked per conversation.
  const client = createClient({ baseURL: server.baseURL, maxRetries: 2, idleTimeout: IDLE_MS, timeout: 5000, headers: { "x-chaos-conversation": id } });
  const conversation = await Conversation.create(store, { client, model: "meta-llama/Llama-3.2-90B-Vision-Instruct", id });
  const ledger: string[] = []; // user messages accepted, in order
  let seenRequests = 0;
  for (let turn = 0; turn < TURNS_PER_CONVERSATION && figures.turns < limit; turn++) {
    figures.turns++;
    const text = `conversation ${index}, turn ${turn}: ${"é🦙日".slice(0, 1 + Math.floor(random() * 3))} ${random().toString(36).slice(2)}`;
    const reply = conversation.send(text);
    ledger.push(text);
    const outcome = await settle(reply, figures, `turn ${turn} of conversation ${index}`);
    const { deltas } = outcome;
    await conversation.flush();

    const attempts = server.log.get(conversation.id)!.slice(seenRequests);
    seenRequests += attempts.length;
    figures.requests += attempts.length;
    for (const a of attempts) figures.faults[a.fault] = (figures.faults[a.fault] ?? 0) + 1;
    const last = attempts.at(-1)!;
    const assistant = conversation.messages.at(-1) as AssistantMessage;
    expect(assistant.role).toBe("assistant");
    // Retries happen only before a body has started, and only for retryable faults.
    for (const a of attempts.slice(0, -1)) expect(RETRIED.has(a.fault), `retried after ${a.fault}`).toBe(true);
    expect(attempts.length).toBeLessThanOrEqual(3);

    const expectedError = EXPECTED_ERROR[last.fault];
    if (expectedError === undefined) {
      expect(assistant.status).toBe("complete");
      expect(assistant.content).toBe(last.text);
      expect(deltas.join("")).toBe(last.text);
      figures.completed++;
      if (attempts.length > 1) figures.recoveredByRetry++;
    } else {
      expect(outcome.error, `fault ${last.fault}`).toBeDefined();
      expect((outcome.error as Error).name, `fault ${last.fault}`).toBe(expectedError);
      expect(["interrupted", "error"]).toContain(assistant.status);
      expect(last.text.startsWith(assistant.content), `prefix after ${last.fault}`).toBe(true);
      expect(deltas.join("")).toBe(assistant.content);
      figures.surfaced[expectedError] = (figures.surfaced[expectedError] ?? 0) + 1;
    }

    // The store holds exactly what the conversation holds: every user message once, in order, no duplicates.
    const stored: Message[] = (await store.loadMessages(conversation.id, { limit: 1000 })).messages;
    expect(stored).toEqual(conversation.messages);
    const storedUsers = stored.filter((m) => m.role === "user").map((m) => m.content);
    figures.lost += ledger.filter((t) => !storedUsers.includes(t)).length;
    figures.duplicated += storedUsers.length - new Set(storedUsers).size;
    expect(storedUsers).toEqual(ledger);
    expect(stored.filter((m) => m.role === "assistant")).toHaveLength(ledger.length);
  }
}

/** Two writers on one conversation. Each send is a turn; in about half the rounds both send at the same moment. */
async function runContested(index: number, store: ConversationStore, figures: Figures, limit: number, label: string, second = store): Promise<void> {
  const random = rng(SEED + index * 7919 + 1);
  const id = `chaos2-${label}-${SEED}-${index}`;
  const writer = (name: string) =>
    createClient({ baseURL: server.baseURL, maxRetries: 2, idleTimeout: IDLE_MS, timeout: 5000, headers: { "x-chaos-conversation": `${id}/${name}` } });
  const a = await Conversation.create(store, { client: writer("a"), model: "meta-llama/Llama-3.2-90B-Vision-Instruct", id });
  const b = await Conversation.open(second, id, { client: writer("b") });
  const writers = [["a", a], ["b", b]] as const;
  const seen: Record<string, number> = { a: 0, b: 0 };
  const ledger: string[] = [];
  try {
    for (let round = 0; ledger.length < TURNS_PER_CONVERSATION && figures.turns < limit; round++) {
      const both = random() < 0.5;
      const senders = both ? writers : [writers[random() < 0.5 ? 0 : 1]!];
      const sent = senders.slice(0, Math.min(limit - figures.turns, TURNS_PER_CONVERSATION - ledger.length)).map(([name, conversation]) => {
        figures.turns++;
        const text = `${id} ${name} round ${round}: ${random().toString(36).slice(2)}`;
        ledger.push(text);
        return { name, text, reply: conversation.send(text) };
      });
      const outcomes = await Promise.all(sent.map((s) => settle(s.reply, figures, `round ${round} of ${id}`)));
      await Promise.all([a.flush(), b.flush()]);
      const stored: Message[] = (await store.loadMessages(id, { limit: 1000 })).messages;
      stored.forEach((m, i) => m.role !== (i % 2 ? "assistant" : "user") && figures.outOfOrder++);
      sent.forEach(({ name, text }, i) => {
        const outcome = outcomes[i]!;
        const attempts = server.log.get(`${id}/${name}`)!.slice(seen[name]);
        seen[name]! += attempts.length;
        figures.requests += attempts.length;
        for (const attempt of attempts) figures.faults[attempt.fault] = (figures.faults[attempt.fault] ?? 0) + 1;
        for (const attempt of attempts.slice(0, -1)) expect(RETRIED.has(attempt.fault), `retried after ${attempt.fault}`).toBe(true);
        const last = attempts.at(-1)!;
        const at = stored.findIndex((m) => m.role === "user" && m.content === text);
        const reply = stored[at + 1];
        if (at === -1 || reply?.role !== "assistant") return void figures.outOfOrder++;
        // The request carried the whole stored history up to its own question (failed empty replies carry nothing).
        const history = stored.slice(0, at + 1).filter((m) => m.role === "user" || m.content !== "").map((m) => m.content);
        if (JSON.stringify(last.messages) !== JSON.stringify(history)) figures.staleRequests++;
        const expectedError = EXPECTED_ERROR[last.fault];
        if (expectedError === undefined) {
          expect(outcome.message?.id).toBe(reply.id);
          expect(reply).toMatchObject({ status: "complete", content: last.text });
          figures.completed++;
          if (attempts.length > 1) figures.recoveredByRetry++;
        } else {
          expect((outcome.error as Error | undefined)?.name, `fault ${last.fault}`).toBe(expectedError);
          expect(["interrupted", "error"]).toContain(reply.status);
          expect(last.text.startsWith(reply.content), `prefix after ${last.fault}`).toBe(true);
          figures.surfaced[expectedError] = (figures.surfaced[expectedError] ?? 0) + 1;
        }
        expect(outcome.deltas.join("")).toBe(reply.content);
      });
      const storedUsers = stored.filter((m) => m.role === "user").map((m) => m.content as string);
      figures.lost += ledger.filter((t) => !storedUsers.includes(t)).length;
      figures.duplicated += storedUsers.length - new Set(storedUsers).size;
    }
    // Both writers follow each other: without a reload, each shows what the store holds.
    const stored = (await store.loadMessages(id, { limit: 1000 })).messages;
    for (let tries = 0; tries < 100 && !(equal(a.messages, stored) && equal(b.messages, stored)); tries++) await new Promise((r) => setTimeout(r, 20));
    expect(a.messages).toEqual(stored);
    expect(b.messages).toEqual(stored);
  } finally {
    a.close();
    b.close();
  }
}

const equal = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

async function chaosRun(label: string, store: ConversationStore, turns: number, run = runConversation): Promise<Figures> {
  const started = Date.now();
  const figures: Figures = {
    seed: SEED, turns: 0, conversations: 0, requests: 0, faults: {}, recoveredByRetry: 0, completed: 0, surfaced: {},
    lost: 0, duplicated: 0, outOfOrder: 0, staleRequests: 0, hung: 0, ms: 0,
  };
  const total = Math.ceil(turns / TURNS_PER_CONVERSATION);
  let next = 0;
  const workers = Array.from({ length: Math.min(CONCURRENCY, total) }, async () => {
    while (next < total) {
      const index = next++;
      figures.conversations++;
      await run(index, store, figures, turns, label);
    }
  });
  await Promise.all(workers);
  figures.ms = Date.now() - started;
  mkdirSync(".ci-out", { recursive: true });
  writeFileSync(`.ci-out/chaos-${label}.json`, JSON.stringify(figures, null, 2));
  console.log(`chaos (${label}): ${JSON.stringify(figures)}`);
  expect(figures.turns).toBe(turns);
  expect(figures.lost).toBe(0);
  expect(figures.duplicated).toBe(0);
  expect(figures.outOfOrder).toBe(0);
  expect(figures.staleRequests).toBe(0);
  expect(figures.hung).toBe(0);
  return figures;
}

describe("chaos", () => {
  it(`${TURNS} turns through Conversation + memory store against a misbehaving upstream lose nothing`, async () => {
    const figures = await chaosRun("memory", createMemoryStore(), TURNS);
    // Every kind of fault was met in a run of this size.
    if (TURNS >= 400) for (const fault of Object.keys(EXPECTED_ERROR)) expect(figures.faults[fault as Fault], fault).toBeGreaterThan(0);
  }, 600_000);

  it(`${IDB_TURNS} turns through Conversation + the IndexedDB store (fake-indexeddb) lose nothing`, async () => {
    const store = createIndexedDBStore({ name: `chaos-${SEED}` });
    try {
      await chaosRun("idb", store, IDB_TURNS);
    } finally {
      store.close?.();
    }
  }, 600_000);

  it(`${CONTESTED_TURNS} turns from two writers on each conversation (memory store): nothing lost, duplicated or out of order`, async () => {
    const figures = await chaosRun("memory-contested", createMemoryStore(), CONTESTED_TURNS, runContested);
    expect(figures.completed).toBeGreaterThan(CONTESTED_TURNS / 3);
  }, 600_000);

  it(`${CONTESTED_IDB_TURNS} turns from two writers on each conversation (IndexedDB store, two store instances): nothing lost, duplicated or out of order`, async () => {
    const name = `chaos-contested-${SEED}`;
    // Each writer on its own store instance, as two tabs would be: the lock and the change notices cross instances.
    const stores = [createIndexedDBStore({ name }), createIndexedDBStore({ name })] as const;
    try {
      await chaosRun("idb-contested", stores[0], CONTESTED_IDB_TURNS, (index, store, figures, limit, label) => runContested(index, store, figures, limit, label, stores[1]));
    } finally {
      for (const store of stores) store.close?.();
    }
  }, 600_000);
});
