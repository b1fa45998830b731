// Part — edgechat/relay (resumable replies) side by side with a plain proxy, both in one Worker in workerd
// (miniflare), against a local upstream in this process that writes one DeepInfra-shaped event every GAP ms:
//   1. time to the first event and added latency per event (upstream write → client read, same clock);
//   2. time from a reconnect (GET with Last-Event-ID) to the first resumed byte, mid-stream and after the end;
//   3. storage per reply: writes (one per flush) per 100 ms of streaming, bytes stored against the SSE bytes.
import { createServer } from "node:http";
import { load } from "../lib/edgechat.mjs";
import { fmt, median, now, printTable, target } from "../lib/measure.mjs";
import { startRelayWorker } from "../lib/relay-worker.mjs";

const { createSSEParser } = await load("./sse");

const EVENTS = Number(process.env.BENCH_RELAY_EVENTS ?? 200);
const GAP = Number(process.env.BENCH_RELAY_GAP_MS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RECONNECTS = Number(process.env.BENCH_RELAY_RECONNECTS ?? 10);
const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";

const chunk = (delta, finish = null) =>
  JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1764028800, model: MODEL, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });

/** The reply: a role chunk, EVENTS deltas (word-sized, as a model streams), the finish chunk, [DONE]. */
function payloads(count) {
  const out = [chunk({ role: "assistant", content: "" })];
  for (let i = 0; i < count; i++) out.push(chunk({ content: ` word${i}` }));
  out.push(chunk({ role: "assistant", content: "" }, "stop"), "[DONE]");
  return out;
}

/** An upstream that paces its events and notes when it wrote each one, per request (by the user message). */
function startUpstream() {
  const written = new Map();
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const part of req) body += part;
    const { messages } = JSON.parse(body);
    const [tag, count, gap] = messages[0].content.split(":");
    const times = [];
    written.set(tag, times);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    let open = true;
    res.on("close", () => (open = false));
    for (const data of payloads(Number(count))) {
      if (!open) return;
      times.push(now());
      res.write(`data: ${data}\n\n`);
      await new Promise((resolve) => setTimeout(resolve, Number(gap)));
    }
    res.end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        baseURL: `http://127.0.0.1:${server.address().port}/v1/openai`,
        written,
        close: () => new Promise((done) => (server.closeAllConnections(), server.close(done))),
      }),
    ),
  );
}

let tags = 0;

/** One streamed reply read to its end: when each event arrived, and the bytes. `stopAfter` drops it after n events. */
async function stream(url, init, { stopAfter } = {}) {
  const controller = new AbortController();
  const t0 = now();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const times = [];
  const ids = [];
  let bytes = 0;
  let firstByte;
  const decoder = new TextDecoder();
  const parser = createSSEParser({ onEvent: (e) => (times.push(now()), ids.push(e.id)) });
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      firstByte ??= now();
      bytes += value.byteLength;
      parser.feed(decoder.decode(value, { stream: true }));
      if (stopAfter !== undefined && times.length >= stopAfter) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (stopAfter === undefined) throw error;
  }
  return { t0, firstByte, times, ids, bytes, headers: response.headers };
}

export async function run() {
  const upstream = await startUpstream();
  const worker = await startRelayWorker(upstream.baseURL);
  const results = {};
  try {
    console.log(
      `\nedgechat/relay against a plain proxy, both in one Worker in workerd (miniflare ${(await import("miniflare/package.json", { with: { type: "json" } })).default.version}); ` +
        `a local upstream writes ${EVENTS + 3} events, one every ${GAP} ms; ${RUNS} rounds after a warm-up, contenders interleaved.`,
    );
    const body = (tag, count = EVENTS, gap = GAP) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content: `${tag}:${count}:${gap}` }], stream: true });
    const contenders = [
      { name: "plain proxy (Worker → upstream)", path: "/plain" },
      { name: "relay (Worker → Durable Object → upstream)", path: "/chat" },
    ];
    const samples = new Map(contenders.map((c) => [c.name, { first: [], latency: [], p95: [] }]));
    const replies = [];
    for (let round = 0; round <= RUNS; round++) {
      for (const c of contenders) {
        const tag = `r${++tags}`;
        const r = await stream(new URL(c.path, worker.url), { method: "POST", headers: { "x-client": "bench" }, body: body(tag) });
        const written = upstream.written.get(tag);
        if (r.times.length !== written.length) throw new Error(`${c.name}: ${r.times.length} events read, ${written.length} written`);
        // From the second event: the first also pays for starting the request (its own column).
        const lat = r.times.slice(1).map((t, i) => t - written[i + 1]);
        if (round > 0) {
          const s = samples.get(c.name);
          s.first.push(r.times[0] - r.t0);
          s.latency.push(median(lat));
          s.p95.push([...lat].sort((a, b) => a - b)[Math.floor(lat.length * 0.95)]);
        }
        // Read back at once: workerd drops an idle object from memory after a few seconds, and its write counters with it.
        if (c.path === "/chat") replies.push(await storageOf(worker.url, r.headers.get("edgechat-resume"), r.bytes, written.at(-1) - written[0]));
      }
    }
    const plain = samples.get(contenders[0].name);
    const relay = samples.get(contenders[1].name);
    const added = median(relay.latency) - median(plain.latency);
    printTable(
      "Latency — upstream write → client read (ms, median of rounds)",
      ["contender", "first event", "per event (median)", "per event (p95)", "added per event"],
      contenders.map((c) => {
        const s = samples.get(c.name);
        return {
          contender: c.name,
          "first event": fmt.sig(median(s.first)),
          "per event (median)": fmt.sig(median(s.latency)),
          "per event (p95)": fmt.sig(median(s.p95)),
          "added per event": c === contenders[0] ? "" : `+${fmt.sig(added)}`,
        };
      }),
      ["first event: from the request to the first event (the relay also starts its object and stores the generation)."],
    );
    results.latency = Object.fromEntries([...samples].map(([name, s]) => [name, { firstEventMs: median(s.first), perEventMs: median(s.latency), perEventP95Ms: median(s.p95) }]));
    results.latency.addedPerEventMs = added;

    // 2. Reconnects: drop after 20 events, GET with Last-Event-ID: 20 at once (mid-stream), or after the end.
    const reconnect = { live: [], stored: [], fresh: [] };
    for (let i = 0; i < RECONNECTS; i++) {
      const tag = `c${++tags}`;
      const first = await stream(new URL("/chat", worker.url), { method: "POST", headers: { "x-client": "bench" }, body: body(tag, 100, 5) }, { stopAfter: 20 });
      const url = new URL(first.headers.get("edgechat-resume"), worker.url);
      const live = await stream(url, { headers: { "x-client": "bench", "last-event-id": first.ids[19] } });
      reconnect.live.push(live.firstByte - live.t0);
      if (live.ids[0] !== "21") throw new Error(`resumed at ${live.ids[0]}, not 21`);
      const stored = await stream(url, { headers: { "x-client": "bench", "last-event-id": "20" } });
      reconnect.stored.push(stored.firstByte - stored.t0);
      const fresh = await stream(new URL("/plain", worker.url), { method: "POST", body: body(`f${++tags}`, 1, 0) });
      reconnect.fresh.push(fresh.firstByte - fresh.t0);
    }
    printTable(
      `Reconnect → first resumed byte (ms, median (min–max) of ${RECONNECTS})`,
      ["case", "time"],
      [
        { case: "relay: GET + Last-Event-ID while it streams (storage + memory, then live)", time: fmt.range(summary(reconnect.live), (v) => v) },
        { case: "relay: GET + Last-Event-ID after it ended (storage only)", time: fmt.range(summary(reconnect.stored), (v) => v) },
        { case: "plain proxy: a new request's first byte (what a client without resume waits, and pays for again)", time: fmt.range(summary(reconnect.fresh), (v) => v) },
      ],
    );
    results.reconnect = Object.fromEntries(Object.entries(reconnect).map(([k, v]) => [k, summary(v)]));

    // 3. Storage per reply (the relay's replies of part 1, read back from their objects as they ended).
    const storage = replies;
    const m = (k) => median(storage.map((s) => s[k]));
    const rows = [
      {
        "streaming (ms)": fmt.n(m("streamingMs")),
        writes: fmt.n(m("writes")),
        "writes span (ms)": fmt.n(m("span")),
        "writes / 100 ms": fmt.n(m("rate"), 2),
        "smallest gap (ms)": fmt.n(Math.min(...storage.map((s) => s.minGap))),
        "SSE bytes": fmt.n(m("sseBytes")),
        "bytes stored": fmt.n(m("storedBytes")),
        "stored / SSE": fmt.ratio(m("ratio")),
      },
    ];
    printTable(`Storage per reply (median of ${storage.length} replies of ${EVENTS + 3} events)`, Object.keys(rows[0]), rows, [
      "writes: transactions, the one that creates the generation included (each other one is a flush; the last also marks it finished, up to 100 ms after the stream ended).",
      "writes / 100 ms: (writes − 1) / (first to last write / 100 ms), the rate over the intervals between writes; smallest gap: between two writes of one reply, over all replies.",
      "bytes stored: each row's SSE text + 16 (two integers and a row header), and the state row's values.",
    ]);
    results.storage = { median: { writes: m("writes"), writesPer100ms: m("rate"), ratio: m("ratio"), streamingMs: m("streamingMs") }, smallestGapMs: Math.min(...storage.map((s) => s.minGap)), replies: storage };

    console.log("\nTargets (issue 14):");
    const gap = Math.min(...storage.map((s) => s.minGap));
    results.targets = [
      target("storage writes ≤ 1 per 100 ms of streaming (no two writes of a reply within 100 ms)", gap >= 100, `smallest gap ${fmt.n(gap)} ms; ${fmt.n(m("writes"))} writes for ${fmt.n(m("streamingMs"))} ms of streaming (median)`),
      target("bytes stored ≤ 1.2× the reply's SSE bytes", Math.max(...storage.map((s) => s.ratio)) <= 1.2, `worst ${fmt.ratio(Math.max(...storage.map((s) => s.ratio)))}`),
    ];
    console.log(`  added latency per event through the relay: +${fmt.sig(added)} ms (median); reconnect → first resumed byte: ${fmt.sig(median(reconnect.live))} ms (no target set)`);
    return results;
  } finally {
    await worker.dispose();
    await upstream.close();
  }
}

/** A relay reply's storage, once its last write is done (the object writes it up to 100 ms after the stream ends). */
async function storageOf(base, resume, sseBytes, streamingMs) {
  const id = resume.split("/").pop();
  let inspected;
  for (let tries = 0; tries < 40; tries++) {
    inspected = await (await fetch(new URL(`/inspect/${id}`, base))).json();
    if (inspected.state[0]?.reason) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const times = inspected.writes.times;
  const storedBytes =
    inspected.rows.reduce((n, r) => n + Buffer.byteLength(r.text) + 16, 0) + Object.values(inspected.state[0]).reduce((n, v) => n + Buffer.byteLength(String(v)) + 2, 0);
  const span = times.at(-1) - times[0];
  return {
    writes: inspected.writes.transactions,
    span,
    rate: (times.length - 1) / (span / 100),
    minGap: Math.min(...times.slice(1).map((t, i) => t - times[i])),
    streamingMs,
    storedBytes,
    sseBytes,
    ratio: storedBytes / sseBytes,
  };
}

function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), samples: values };
}
