// Part 1 — SSE parsing: bytes of a DeepInfra-shaped stream, cut several ways, through each parser.
import { EventSourceParserStream } from "eventsource-parser/stream";
import { createParser } from "eventsource-parser";
import { Stream as OpenAIStream } from "openai/core/streaming";
import { load } from "../lib/edgechat.mjs";
import { encodeEvents, eventChunks, fixedChunks, randomChunks, replyPayloads, sseEvents, streamOf } from "../lib/events.mjs";
import { brief, fmt, paired, printTable, rounds, target } from "../lib/measure.mjs";

const { createSSEParser, parseSSE, SSEParserStream } = await load("./sse");

// 50,000 content events = an 11 MB stream: ~15–20 s for the part on a quiet 2-core machine. The brief's ~200k
// (BENCH_SSE_EVENTS=200000, 44 MB) gives the same rates and takes ~4× as long.
const EVENTS = Number(process.env.BENCH_SSE_EVENTS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// The JSON rows (openai-node's decoder is ~10× slower than the parsers) run on 16 KiB chunks only, which keeps the
// part well under a minute; the parser rows run on every cut. (Part 2, client, has openai-node on one event per chunk.)
const JSON_CUTS = ["16 KiB"];

const EVENT = { event: "message", data: "", id: "" };

async function* wrapCreateParser(body) {
  let queue = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
    const events = queue;
    queue = [];
    for (let i = 0; i < events.length; i++) yield events[i];
    if (done) return;
  }
}

async function drainReader(readable, onValue) {
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onValue(value);
  }
}

/** Every contender: `run(chunks)` → { events, chars } (raw parsers) or { events, content } (JSON rows). */
const CONTENDERS = [
  {
    name: "TextDecoder only (floor)",
    kind: "floor",
    async run(chunks) {
      const decoder = new TextDecoder();
      let chars = 0;
      await drainReader(streamOf(chunks), (value) => (chars += decoder.decode(value, { stream: true }).length));
      chars += decoder.decode().length;
      return { chars };
    },
  },
  {
    // What any TransformStream-based parser pays at least: decode, find the blank lines, one enqueue + one read per event.
    name: "TransformStream floor (enqueue per event)",
    kind: "streamFloor",
    async run(chunks) {
      let events = 0;
      const decoder = new TextDecoder();
      let carry = "";
      const split = new TransformStream({
        transform(chunk, controller) {
          const text = carry + decoder.decode(chunk, { stream: true });
          let from = 0;
          for (let at = text.indexOf("\n\n"); at !== -1; at = text.indexOf("\n\n", from)) {
            controller.enqueue(EVENT);
            from = at + 2;
          }
          carry = text.slice(from);
        },
      });
      await drainReader(streamOf(chunks).pipeThrough(split), () => events++);
      return { events };
    },
  },
  {
    name: "edgechat parseSSE",
    kind: "raw",
    async run(chunks) {
      let events = 0;
      let chars = 0;
      for await (const event of parseSSE(streamOf(chunks))) {
        events++;
        chars += event.data.length;
      }
      return { events, chars };
    },
  },
  {
    name: "edgechat SSEParserStream",
    kind: "raw",
    async run(chunks) {
      let events = 0;
      let chars = 0;
      await drainReader(streamOf(chunks).pipeThrough(new SSEParserStream()), (event) => {
        events++;
        chars += event.data.length;
      });
      return { events, chars };
    },
  },
  {
    // Like for like with createParser: the callback API, fed the same decoded text. Written out twice rather than
    // shared, so each parser's feed and onEvent call sites stay monomorphic, as they are in an app using one parser.
    name: "edgechat createSSEParser (callback)",
    kind: "raw",
    async run(chunks) {
      let events = 0;
      let chars = 0;
      const parser = createSSEParser({
        onEvent(event) {
          events++;
          chars += event.data.length;
        },
      });
      const decoder = new TextDecoder();
      await drainReader(streamOf(chunks), (value) => parser.feed(decoder.decode(value, { stream: true })));
      parser.feed(decoder.decode());
      return { events, chars };
    },
  },
  {
    name: "eventsource-parser createParser",
    kind: "raw",
    async run(chunks) {
      let events = 0;
      let chars = 0;
      const parser = createParser({
        onEvent(event) {
          events++;
          chars += event.data.length;
        },
      });
      const decoder = new TextDecoder();
      await drainReader(streamOf(chunks), (value) => parser.feed(decoder.decode(value, { stream: true })));
      parser.feed(decoder.decode());
      return { events, chars };
    },
  },
  {
    // Not a product of eventsource-parser: what a user writes to get an async iterable like parseSSE from its
    // callback API. It prices the iteration protocol (a promise per event) apart from the parsing.
    name: "createParser wrapped in an async generator",
    kind: "raw",
    async run(chunks) {
      let events = 0;
      let chars = 0;
      for await (const event of wrapCreateParser(streamOf(chunks))) {
        events++;
        chars += event.data.length;
      }
      return { events, chars };
    },
  },
  {
    name: "eventsource-parser EventSourceParserStream",
    kind: "raw",
    async run(chunks) {
      let events = 0;
      let chars = 0;
      const events$ = streamOf(chunks).pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      await drainReader(events$, (event) => {
        events++;
        chars += event.data.length;
      });
      return { events, chars };
    },
  },
  {
    name: "edgechat parseSSE + JSON.parse",
    kind: "json",
    cuts: JSON_CUTS,
    async run(chunks) {
      let events = 0;
      let content = 0;
      for await (const event of parseSSE(streamOf(chunks))) {
        if (event.data === "[DONE]") break;
        const json = JSON.parse(event.data);
        events++;
        content += json.choices[0].delta.content.length;
      }
      return { events, content };
    },
  },
  {
    name: "eventsource-parser createParser + JSON.parse",
    kind: "json",
    cuts: JSON_CUTS,
    async run(chunks) {
      let events = 0;
      let content = 0;
      let done = false;
      const parser = createParser({
        onEvent(event) {
          if (done || event.data === "[DONE]") return void (done = true);
          const json = JSON.parse(event.data);
          events++;
          content += json.choices[0].delta.content.length;
        },
      });
      const decoder = new TextDecoder();
      await drainReader(streamOf(chunks), (value) => parser.feed(decoder.decode(value, { stream: true })));
      parser.feed(decoder.decode());
      return { events, content };
    },
  },
  {
    name: "openai-node Stream.fromSSEResponse (JSON)",
    kind: "json",
    cuts: JSON_CUTS,
    async run(chunks) {
      let events = 0;
      let content = 0;
      // The decoding path the SDK runs on a streamed response: bytes → SSE → JSON.parse → chunk objects.
      const stream = OpenAIStream.fromSSEResponse(new Response(streamOf(chunks)), new AbortController());
      for await (const json of stream) {
        events++;
        content += json.choices[0].delta.content.length;
      }
      return { events, content };
    },
  },
];

export async function run() {
  const { payloads, text } = replyPayloads(EVENTS, 1);
  const events = sseEvents(payloads);
  const { bytes, bounds } = encodeEvents(events);
  const random = randomChunks(bytes, 7);
  const expect = {
    floor: { chars: events.reduce((n, e) => n + e.length, 0) },
    raw: { events: events.length, chars: payloads.reduce((n, p) => n + p.length, 0) + "[DONE]".length },
    json: { events: payloads.length, content: text.length },
    streamFloor: { events: events.length },
  };
  const cuts = [
    { name: "1 KiB", chunks: fixedChunks(bytes, 1024) },
    { name: "16 KiB", chunks: fixedChunks(bytes, 16 * 1024) },
    { name: "64 KiB", chunks: fixedChunks(bytes, 64 * 1024) },
    { name: "one event per chunk", chunks: eventChunks(bytes, bounds) },
    { name: "random splits", chunks: random.chunks, note: `${random.insideChar} of ${random.chunks.length - 1} cuts inside a multi-byte character` },
  ];
  const mb = bytes.length / 1e6;
  console.log(
    `\nSSE parsing: ${fmt.n(events.length)} events (${EVENTS.toLocaleString("en-US")} content deltas, role and finish events, [DONE]), ` +
      `${mb.toFixed(1)} MB, ${fmt.pct(1 - text.length / new TextEncoder().encode(text).length, 0)} of content bytes non-ASCII; ` +
      `1 warm-up + ${RUNS} runs per contender, interleaved`,
  );

  const results = [];
  const pairs = {};
  for (const cut of cuts) {
    const contenders = CONTENDERS.filter((c) => !c.cuts || c.cuts.includes(cut.name));
    const stats = await rounds(
      contenders.map((c) => ({
        name: c.name,
        run: () => c.run(cut.chunks),
        check(value) {
          const want = expect[c.kind];
          for (const key of Object.keys(want)) {
            if (value[key] !== want[key]) throw new Error(`${c.name} on ${cut.name}: ${key} = ${value[key]}, expected ${want[key]}`);
          }
        },
      })),
      { warmup: 1, runs: RUNS },
    );
    const base = stats.get("eventsource-parser createParser");
    const rows = contenders.map((c) => {
      const s = stats.get(c.name);
      const row = {
        chunking: cut.name,
        contender: c.name,
        compare: c.kind === "json" ? "JSON rows" : c.kind === "raw" ? "parser rows" : "floor",
        chunks: cut.chunks.length,
        ms: s,
        mbPerSec: mb / (s.median / 1000),
        eventsPerSec: events.length / (s.median / 1000),
        vsCreateParser: paired(base, s),
        vsCreateParserCpu: paired(base, s, "cpu"),
      };
      results.push(row);
      return row;
    });
    pairs[cut.name] = stats;
    printTable(
      `SSE parsing — ${cut.name} (${fmt.n(cut.chunks.length)} chunks)`,
      ["contender", "rows", "MB/s median (min–max)", "events/s", "× createParser", "(CPU)"],
      rows.map((r) => ({
        contender: r.contender,
        rows: r.compare,
        "MB/s median (min–max)": fmt.range(r.ms, (ms) => mb / (ms / 1000), true),
        "events/s": `${fmt.sig(r.eventsPerSec / 1e6)}M`,
        "× createParser": fmt.ratio(r.vsCreateParser),
        "(CPU)": fmt.ratio(r.vsCreateParserCpu),
      })),
      cut.note ? [cut.note] : [],
    );
  }
  console.log(
    "\n  Comparable rows: the raw parser rows with each other (bytes → events with data strings); the JSON rows with each other " +
      "(bytes → parsed chunk objects; openai-node always JSON-parses). Floors: TextDecoder alone; and a TransformStream that only " +
      "splits at blank lines and enqueues one constant object per event — the least a web-streams parser (SSEParserStream, " +
      "EventSourceParserStream) can cost." +
      "\n  × createParser = median over rounds of (createParser's time / this contender's time) in the same round: > 1 is faster." +
      "\n  (CPU): the same ratio from this process's CPU time — steadier than wall time when other processes compete for the cores.",
  );

  const ratio = (cut, a, b, clock) => paired(pairs[cut].get(b), pairs[cut].get(a), clock);
  const both = (cut, a, b) => `${fmt.ratio(ratio(cut, a, b))} (CPU ${fmt.ratio(ratio(cut, a, b, "cpu"))})`;
  const targets = [];
  console.log("\nSSE targets (paired medians of wall time, judged on wall time; CPU-time ratio alongside):");
  // The parser targets compare like with like: our callback API with eventsource-parser's. The async iterable is
  // judged against the same callback parser behind an async generator, which is what it costs to get one from it.
  const CALLBACK = "edgechat createSSEParser (callback)";
  const CREATE = "eventsource-parser createParser";
  const parserTargets = [
    ["16 KiB", 1, "createSSEParser ≥ createParser at 16 KiB"],
    ["64 KiB", 1.2, "createSSEParser ≥ 1.2× createParser at 64 KiB"],
    ["random splits", 1, "createSSEParser not slower than createParser on random splits"],
  ];
  for (const [cut, need, name] of parserTargets) targets.push(target(name, ratio(cut, CALLBACK, CREATE) >= need, both(cut, CALLBACK, CREATE)));
  const WRAPPED = "createParser wrapped in an async generator";
  for (const cut of ["16 KiB", "64 KiB", "random splits"]) {
    const r = ratio(cut, "edgechat parseSSE", WRAPPED);
    targets.push(target(`parseSSE ≥ createParser behind an async generator at ${cut}`, r >= 1, both(cut, "edgechat parseSSE", WRAPPED)));
  }
  for (const cut of ["16 KiB", "64 KiB", "random splits"]) {
    console.log(`  (info) ${cut}: parseSSE is ${both(cut, "edgechat parseSSE", CREATE)} createParser's speed — the rest is one promise per event, which any async iterable pays`);
  }
  for (const cut of ["16 KiB", "64 KiB", "one event per chunk"]) {
    const rs = ratio(cut, "edgechat SSEParserStream", "eventsource-parser EventSourceParserStream");
    targets.push(target(`SSEParserStream ≥ 2× EventSourceParserStream at ${cut}`, rs >= 2, both(cut, "edgechat SSEParserStream", "eventsource-parser EventSourceParserStream")));
  }
  for (const cut of ["16 KiB", "one event per chunk"]) {
    const floor = "TransformStream floor (enqueue per event)";
    console.log(
      `  (info) ${cut}: the TransformStream floor is ${both(cut, floor, "edgechat SSEParserStream")} as fast as SSEParserStream, ` +
        `${both(cut, floor, "eventsource-parser EventSourceParserStream")} as fast as EventSourceParserStream`,
    );
  }
  console.log(`  (info) parseSSE + JSON.parse vs openai-node's decoder at 16 KiB: ${both("16 KiB", "edgechat parseSSE + JSON.parse", "openai-node Stream.fromSSEResponse (JSON)")}`);

  return {
    setup: { events: events.length, contentEvents: EVENTS, bytes: bytes.length, runs: RUNS, warmup: 1, randomCutsInsideChar: random.insideChar },
    rows: results.map(({ ms, ...r }) => ({ ...r, ms: brief(ms) })),
    targets,
  };
}

