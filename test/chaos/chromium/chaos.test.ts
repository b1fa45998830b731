// The chaos run, smaller, in real Chromium with real IndexedDB: 20 conversations at once in one page, every
// turn against the misbehaving upstream, then a reload that reads everything back. Nothing may be lost,
// duplicated, or differ between memory, the store and what the server sent.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EXPECTED_ERROR, RETRIED } from "../faults.ts";
import { type ChaosServer, startChaosServer } from "../server.ts";
import type { ConversationResult } from "./page.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SEED = Number(process.env.CHAOS_SEED ?? 20261125) + 1;
const CONVERSATIONS = 20;
const TURNS = Number(process.env.CHAOS_PAGE_TURNS ?? 8);

let chaos: ChaosServer;
let site: Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not available at ${CHROMIUM}: apt-get install --no-install-recommends chromium (or set CHROMIUM_PATH)`);
  }
  chaos = await startChaosServer(SEED, 1500);
  const output = await build({
    configFile: false,
    logLevel: "warn",
    build: {
      write: false,
      minify: false,
      target: "es2022",
      lib: { entry: join(import.meta.dirname, "page.ts"), formats: ["es"], fileName: "page" },
      // One file, dynamic imports included (the validator that Conversation.fromJSON loads lazily): only it is served.
      rolldownOptions: { output: { codeSplitting: false } },
    },
  });
  const bundle = [output].flat()[0] as import("vite").Rolldown.RolldownOutput;
  const entry = bundle.output.find((o) => o.type === "chunk" && o.isEntry);
  const code = entry?.type === "chunk" ? entry.code : "";
  site = createServer((req, res) => {
    if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(code);
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>');
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => site?.close(r));
  await chaos?.close();
});

async function open(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(origin);
  await page.waitForFunction(() => "__ready" in window);
  return page;
}

it(`${CONVERSATIONS} conversations at once in one page, against the chaos upstream, lose nothing in IndexedDB`, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForFunction(() => "__ready" in window);
  const db = `chaos-${SEED}`;
  const results = (await page.evaluate(
    ([base, name, seed, n, turns]) => (window as unknown as { chaos: { run(...a: unknown[]): Promise<unknown> } }).chaos.run(base, name, seed, n, turns),
    [chaos.baseURL, db, SEED, CONVERSATIONS, TURNS] as const,
  )) as ConversationResult[];

  const faults: Record<string, number> = {};
  let completed = 0;
  for (const conversation of results) {
    const log = chaos.log.get(conversation.id)!;
    expect(conversation.stored).toEqual(conversation.memory);
    expect(conversation.stored.filter((m) => m.role === "user").map((m) => m.content)).toEqual(conversation.turns.map((t) => t.text));
    expect(conversation.stored.filter((m) => m.role === "assistant")).toHaveLength(TURNS);
    // Walk the server's log turn by turn: retries only for retryable faults, then the outcome the last fault calls for.
    conversation.turns.forEach((turn, i) => {
      const attempts = log.filter((entry) => entry.turn === i);
      expect(attempts.length).toBeGreaterThan(0);
      expect(attempts.length).toBeLessThanOrEqual(3);
      for (const a of attempts.slice(0, -1)) expect(RETRIED.has(a.fault), `retried after ${a.fault}`).toBe(true);
      for (const a of attempts) faults[a.fault] = (faults[a.fault] ?? 0) + 1;
      const last = attempts.at(-1)!;
      const reply = conversation.stored.filter((m) => m.role === "assistant")[i]!;
      const expected = EXPECTED_ERROR[last.fault];
      if (expected === undefined) {
        expect(turn.status, `${conversation.id} turn ${i} after ${last.fault}`).toBe("complete");
        expect(reply.content).toBe(last.text);
        completed++;
      } else {
        expect(turn.error, `${conversation.id} turn ${i} after ${last.fault}`).toBe(expected);
        expect(last.text.startsWith(String(reply.content))).toBe(true);
      }
      expect(turn.deltas).toBe(reply.content);
    });
  }
  expect(completed).toBeGreaterThan(0);

  // A fresh page (a reload) reads back exactly what was stored.
  await page.close();
  const again = await context.newPage();
  await again.goto(origin);
  await again.waitForFunction(() => "__ready" in window);
  const reread = (await again.evaluate(
    ([name, ids]) => (window as unknown as { chaos: { reread(...a: unknown[]): Promise<unknown> } }).chaos.reread(name, ids),
    [db, results.map((r) => r.id)] as const,
  )) as Record<string, unknown[]>;
  for (const conversation of results) expect(reread[conversation.id]).toEqual(conversation.stored);
  console.log(`chaos in Chromium: ${JSON.stringify({ conversations: CONVERSATIONS, turns: CONVERSATIONS * TURNS, completed, faults })}`);
  await context.close();
}, 300_000);
