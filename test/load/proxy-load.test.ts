// Load through the demo's Worker proxy in real workerd (loopback only, bounded): 240 concurrent streaming
// requests to a local upstream. Every stream must complete with exactly its own text (each carries a nonce,
// so a mix-up between clients shows); reports throughput, latency to the first event and workerd's memory.
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../../demo/worker/dev.mjs";
import { createClient } from "../../src/index.ts";
import { chunk, sse, startSSE, startUpstream, type Upstream, usage, wait } from "../helpers/upstream.ts";

const CONCURRENT = Number(process.env.LOAD_CONCURRENT ?? 240);
const EVENTS = 30;
const TOKEN = "di-load-test-token-0000000000";

let upstream: Upstream;
let worker: RunningWorker;
beforeAll(async () => {
  upstream = await startUpstream();
  upstream.handle(async (req, res) => {
    const nonce = String(req.body.messages.at(-1).content);
    startSSE(res);
    res.write(sse(chunk({ role: "assistant", content: "" })));
    for (let i = 0; i < EVENTS; i++) {
      res.write(sse(chunk({ content: `${nonce}:${i} ` })));
      await wait(5);
    }
    res.end(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(10, EVENTS) })) + sse("[DONE]"));
  });
  worker = await startWorker({
    port: 0,
    env: { DEEPINFRA_TOKEN: TOKEN, UPSTREAM_URL: upstream.baseURL, RATE_LIMIT_REQUESTS: 1_000_000, RATE_LIMIT_WINDOW_SECONDS: 60 },
  });
});
afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
});

/** Resident memory (KiB) of the workerd processes started by this test process. */
function workerdMemoryKiB(): number {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {}
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, name] of names) {
    if (!name.includes("workerd") || !descends(pid)) continue;
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    total += Number(rss?.[1] ?? 0);
  }
  return total;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

it(`${CONCURRENT} concurrent streams through the proxy all complete, with their own text`, async () => {
  const client = createClient({ baseURL: worker.baseURL, maxRetries: 0, idleTimeout: 20_000 });
  // Warm up (bundle, isolate, Durable Object), then measure.
  await client.chat.completions.create({ model: "meta-llama/Llama-3.2-90B-Vision-Instruct", messages: [{ role: "user", content: "warm" }], stream: true }).finalChatCompletion();
  const memoryBefore = workerdMemoryKiB();
  const started = performance.now();
  const firstEvent: number[] = [];
  const results = await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      const nonce = `client${i}`;
      const t0 = performance.now();
      const stream = client.chat.completions.create({ model: "meta-llama/Llama-3.2-90B-Vision-Instruct", messages: [{ role: "user", content: nonce }], stream: true });
      let text = "";
      let first = true;
      for await (const delta of stream.textStream) {
        if (first) {
          firstEvent.push(performance.now() - t0);
          first = false;
        }
        text += delta;
      }
      return { nonce, text, final: await stream.finalChatCompletion() };
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const memoryAfter = workerdMemoryKiB();

  for (const { nonce, text, final } of results) {
    expect(text).toBe(Array.from({ length: EVENTS }, (_, i) => `${nonce}:${i} `).join(""));
    expect(final.choices[0]?.finish_reason).toBe("stop");
  }
  // The token reached the upstream on every request; the SDK sent none.
  expect(upstream.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  firstEvent.sort((a, b) => a - b);
  const figures = {
    concurrent: CONCURRENT,
    eventsPerStream: EVENTS,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Math.round(CONCURRENT / seconds),
    eventsPerSecond: Math.round((CONCURRENT * EVENTS) / seconds),
    firstEventMs: { median: Math.round(percentile(firstEvent, 50)), p99: Math.round(percentile(firstEvent, 99)), max: Math.round(firstEvent.at(-1)!) },
    workerdRssMiB: { before: Math.round(memoryBefore / 1024), after: Math.round(memoryAfter / 1024) },
  };
  console.log(`proxy load: ${JSON.stringify(figures)}`);
  expect(memoryBefore).toBeGreaterThan(0);
}, 120_000);
