// Part 2 — end to end: a streamed reply from a local HTTP server through each SDK, every chunk consumed and checked.
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { streamText } from "ai";
import OpenAI from "openai";
import { load } from "../lib/edgechat.mjs";
import { MODEL, replyPayloads } from "../lib/events.mjs";
import { brief, fmt, median, paired, printTable, rounds, target } from "../lib/measure.mjs";
import { startPacedServer, startServer } from "../lib/sse-server.mjs";

const { createClient } = await load(".");
const { parseSSE } = await load("./sse");

const EVENTS = Number(process.env.BENCH_CLIENT_EVENTS ?? 20_000);
// One event per body chunk needs a paced server (see sse-server.mjs): ~50–100 µs an event, so a shorter reply.
const PACED_EVENTS = Number(process.env.BENCH_CLIENT_PACED_EVENTS ?? 5_000);
const SHORT_EVENTS = 3;
const REQUESTS = Number(process.env.BENCH_CLIENT_REQUESTS ?? 200);
const TAIL_REQUESTS = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const messages = [{ role: "user", content: "Describe the picture." }];

globalThis.AI_SDK_LOG_WARNINGS = false;
let lastBodyChunks = 0;

/** Each contender: `make(baseURL)` → an object with `once()` that streams one reply and returns { chunks, text }. */
const CONTENDERS = [
  {
    name: "fetch + drain body (floor)",
    make(baseURL) {
      return async () => {
        const response = await fetch(`${baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream" },
          body: JSON.stringify({ model: MODEL, messages, stream: true }),
        });
        let bodyChunks = 0;
        for await (const _ of response.body) bodyChunks++;
        lastBodyChunks = bodyChunks;
        return { bodyChunks };
      };
    },
  },
  {
    name: "fetch + parseSSE + JSON.parse (no validation)",
    make(baseURL) {
      return async () => {
        const response = await fetch(`${baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream" },
          body: JSON.stringify({ model: MODEL, messages, stream: true }),
        });
        let chunks = 0;
        let text = "";
        for await (const event of parseSSE(response.body)) {
          if (event.data === "[DONE]") break;
          const chunk = JSON.parse(event.data);
          chunks++;
          text += chunk.choices[0]?.delta.content ?? "";
        }
        return { chunks, text };
      };
    },
  },
  {
    name: "edgechat createClient (validated)",
    make(baseURL) {
      const client = createClient({ baseURL, maxRetries: 0 });
      return async () => {
        const stream = client.chat.completions.create({ model: MODEL, messages, stream: true });
        let chunks = 0;
        let text = "";
        for await (const chunk of stream) {
          chunks++;
          text += chunk.choices[0]?.delta.content ?? "";
        }
        return { chunks, text };
      };
    },
  },
  {
    name: "openai-node (not validated)",
    make(baseURL) {
      const client = new OpenAI({ baseURL, apiKey: "x", maxRetries: 0 });
      return async () => {
        const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
        let chunks = 0;
        let text = "";
        for await (const chunk of stream) {
          chunks++;
          text += chunk.choices[0]?.delta?.content ?? "";
        }
        return { chunks, text };
      };
    },
  },
  {
    name: "AI SDK streamText + openai-compatible (validated)",
    make(baseURL) {
      const provider = createOpenAICompatible({ baseURL, name: "deepinfra", apiKey: "x" });
      const model = provider(MODEL);
      return async () => {
        const result = streamText({ model, messages, maxRetries: 0 });
        let chunks = 0;
        let text = "";
        // textStream: the text deltas (the SDK drops empty ones), as its docs consume a reply.
        for await (const delta of result.textStream) {
          chunks++;
          text += delta;
        }
        return { chunks, text, textOnly: true };
      };
    },
  },
];

function checker(name, events, what) {
  const { text } = replyPayloads(events, 1);
  return (value) => {
    if (value.bodyChunks !== undefined) return; // the floor reads bytes only
    const chunks = value.textOnly ? events : events + 2; // + the role chunk and the finish chunk
    if (value.chunks !== chunks * (what.requests ?? 1) || value.text !== text.repeat(what.requests ?? 1)) {
      throw new Error(`${name} (${what.label}): ${value.chunks} chunks, ${value.text.length} chars; expected ${chunks}, ${text.length}`);
    }
  };
}

export async function run() {
  const server = await startServer();
  const paced = await startPacedServer();
  try {
    return await measure(server.origin, paced.origin);
  } finally {
    await Promise.all([server.close(), paced.close()]);
  }
}

async function measure(origin, pacedOrigin) {
  const results = { setup: { events: EVENTS, pacedEvents: PACED_EVENTS, shortEvents: SHORT_EVENTS, requests: REQUESTS, runs: RUNS, warmup: 1 }, rows: [], targets: [] };
  console.log(
    `\nStreaming client, end to end: node:http on 127.0.0.1 (worker thread) → fetch → SDK → every chunk read; ` +
      `1 warm-up + ${RUNS} runs, interleaved`,
  );
  const stats = {};

  // Long replies: µs per event.
  for (const [mode, label, base, events] of [
    ["net16k", "16 KiB network writes (server in a worker thread)", `${origin}/net16k/${EVENTS}`, EVENTS],
    ["paced", "one event per body chunk (paced server, same thread)", `${pacedOrigin}/paced/${PACED_EVENTS}`, PACED_EVENTS],
  ]) {
    const what = { label };
    const s = await rounds(
      CONTENDERS.map((c) => ({ name: c.name, run: c.make(base), check: checker(c.name, events, what) })),
      { warmup: 1, runs: RUNS },
    );
    stats[mode] = s;
    const bodyChunks = lastBodyChunks;
    const edge = s.get("edgechat createClient (validated)");
    const rows = CONTENDERS.map((c) => {
      const r = s.get(c.name);
      const openai = s.get("openai-node (not validated)");
      const row = {
        reply: label,
        contender: c.name,
        ms: r,
        usPerEvent: (r.median * 1000) / events,
        vsOpenAI: paired(openai, r),
        vsOpenAICpu: paired(openai, r, "cpu"),
        vsEdge: paired(r, edge),
      };
      results.rows.push({ ...row, ms: brief(r) });
      return row;
    });
    printTable(
      `Client — ${fmt.n(events)}-event reply, ${label}`,
      ["contender", "µs/event median (min–max)", "events/s", "× openai-node", "(CPU)", "edgechat ×"],
      rows.map((r) => ({
        contender: r.contender,
        "µs/event median (min–max)": fmt.range(r.ms, (ms) => (ms * 1000) / events),
        "events/s": `${fmt.n(events / (r.ms.median / 1000) / 1000, 0)}k`,
        "× openai-node": fmt.ratio(r.vsOpenAI),
        "(CPU)": fmt.ratio(r.vsOpenAICpu),
        "edgechat ×": fmt.ratio(r.vsEdge),
      })),
      [
        "× openai-node: how many times faster than openai-node in the same round (wall; CPU = this process's CPU time, server thread",
        "included, steadier on a loaded machine). edgechat ×: how many times faster edgechat was than this row.",
        `The bare fetch received the ${fmt.n(events + 3)} events in ${fmt.n(bodyChunks)} body chunks.`,
      ],
    );
  }

  // Short replies: per-request overhead. One run = REQUESTS requests one after the other on a kept-alive connection.
  {
    const base = `${origin}/net16k/${SHORT_EVENTS}`;
    const what = { label: "short replies", requests: REQUESTS };
    const s = await rounds(
      CONTENDERS.map((c) => {
        const once = c.make(base);
        return {
          name: c.name,
          async run() {
            const total = { chunks: 0, text: "", textOnly: false };
            for (let i = 0; i < REQUESTS; i++) {
              const v = await once();
              if (v.bodyChunks !== undefined) {
                total.bodyChunks = (total.bodyChunks ?? 0) + v.bodyChunks;
                continue;
              }
              total.chunks += v.chunks;
              total.text += v.text;
              total.textOnly = v.textOnly === true;
            }
            return total;
          },
          check: checker(c.name, SHORT_EVENTS, what),
        };
      }),
      { warmup: 1, runs: RUNS },
    );
    stats.short = s;
    const floor = s.get("fetch + drain body (floor)");
    // Overhead = this contender minus the bare fetch of the same round (paired), per request; wall clock, and CPU
    // time of this process (client work, plus the server thread's, which is the same for every contender).
    const over = (r, key) => {
      const a = key === "cpu" ? r.cpu.samples : r.samples;
      const b = key === "cpu" ? floor.cpu.samples : floor.samples;
      return (median(a.map((v, i) => v - b[i])) * 1000) / REQUESTS;
    };
    const rows = CONTENDERS.map((c) => {
      const r = s.get(c.name);
      const row = { reply: `${SHORT_EVENTS}-event reply`, contender: c.name, ms: r, usPerRequest: (r.median * 1000) / REQUESTS, overUs: over(r, "wall"), overCpuUs: over(r, "cpu") };
      results.rows.push({ ...row, ms: brief(r) });
      return row;
    });
    printTable(
      `Client — per-request cost: ${REQUESTS} sequential requests, ${SHORT_EVENTS}-event replies`,
      ["contender", "µs/request median (min–max)", "over the fetch floor: wall", "CPU"],
      rows.map((r) => ({
        contender: r.contender,
        "µs/request median (min–max)": fmt.range(r.ms, (ms) => (ms * 1000) / REQUESTS),
        "over the fetch floor: wall": r.contender.includes("floor") ? "" : `${fmt.sig(r.overUs)} µs`,
        CPU: r.contender.includes("floor") ? "" : `${fmt.sig(r.overCpuUs)} µs`,
      })),
      [
        "The floor is a bare fetch whose body is drained: the HTTP round trip every SDK pays. Over the floor = median over rounds of",
        "(contender − floor in the same round) per request; CPU = this process's CPU time, steadier than wall time on a loaded machine.",
      ],
    );
    stats.shortOver = Object.fromEntries(rows.map((r) => [r.contender, { wall: r.overUs, cpu: r.overCpuUs }]));
  }

  // Connection reuse: the end of each body arrives 5 ms after [DONE] (see sse-server.mjs, "tail").
  {
    const connections = async () => (await (await fetch(`${origin}/stats`)).json()).connections;
    const reuse = [];
    for (const c of CONTENDERS) {
      const once = c.make(`${origin}/tail/${SHORT_EVENTS}`);
      await once();
      const before = await connections();
      for (let i = 0; i < TAIL_REQUESTS; i++) await once();
      // Each /stats request may itself need a connection when the previous one was lost: at most one.
      const opened = Math.min(TAIL_REQUESTS, Math.max(0, (await connections()) - before));
      reuse.push({ contender: c.name, opened });
      results.rows.push({ reply: "tail", contender: c.name, newConnections: opened, requests: TAIL_REQUESTS });
    }
    printTable(
      `Client — connection reuse: ${TAIL_REQUESTS} sequential requests whose body ends 5 ms after [DONE]`,
      ["contender", "new connections"],
      reuse.map((r) => ({ contender: r.contender, "new connections": `${r.opened} of ${TAIL_REQUESTS}` })),
      ["A client that cancels the body at [DONE] instead of reading it to its end cannot reuse the kept-alive connection:",
        "over the internet that is a new TCP + TLS handshake per request."],
    );
    results.connectionReuse = Object.fromEntries(reuse.map((r) => [r.contender, r.opened]));
  }

  console.log("\nClient targets:");
  const openai16 = stats.net16k.get("openai-node (not validated)");
  const edge16 = stats.net16k.get("edgechat createClient (validated)");
  const r16 = paired(openai16, edge16);
  results.targets.push(target("edgechat ≥ 3× openai-node events/s, 16 KiB chunks", r16 >= 3, `${fmt.ratio(r16)} (CPU ${fmt.ratio(paired(openai16, edge16, "cpu"))})`));
  const ours = stats.shortOver["edgechat createClient (validated)"];
  const theirs = stats.shortOver["openai-node (not validated)"];
  results.targets.push(
    target(
      "per-request overhead well under openai-node's (≤ half, over the fetch floor, wall and CPU)",
      ours.wall <= theirs.wall / 2 && ours.cpu <= theirs.cpu / 2,
      `wall ${fmt.sig(ours.wall)} vs ${fmt.sig(theirs.wall)} µs, CPU ${fmt.sig(ours.cpu)} vs ${fmt.sig(theirs.cpu)} µs`,
    ),
  );
  const lost = results.connectionReuse["edgechat createClient (validated)"];
  results.targets.push(
    target("connection kept when the body ends after [DONE] (a finding, not a brief target)", lost <= 1, `${lost} new connections for ${TAIL_REQUESTS} requests (openai-node: ${results.connectionReuse["openai-node (not validated)"]})`),
  );
  return results;
}
