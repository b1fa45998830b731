// Part 9 — structured output: the value so far of a JSON document streamed in small deltas, after every delta.
// edgechat's PartialJSON reads each delta once; partial-json and the AI SDK's parsePartialJson re-parse the whole
// text so far on every delta, which grows with the square of the document: the 200 KB row shows it.
import { parsePartialJson } from "ai";
import { parse as partialJsonParse } from "partial-json";
import { prose } from "../lib/conversation.mjs";
import { load } from "../lib/edgechat.mjs";
import { random } from "../lib/events.mjs";
import { brief, fmt, paired, printTable, rounds } from "../lib/measure.mjs";

const { PartialJSON } = await load("./structured");

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// The re-parsers take 20–30 s per 200 KB document (~10,000 deltas, each re-reading ~100 KB on average). Each of their
// deltas is an independent parse of the text so far, so timing every STRIDE-th delta's parse (the last one included)
// and multiplying by STRIDE estimates the whole without bias; BENCH_JSON_STRIDE=1 times them all.
const STRIDE = Number(process.env.BENCH_JSON_STRIDE ?? 10);
// "5-token deltas": ~4 characters a token, so 10–30 characters a delta (20 on average).
const DELTA_MIN = 10;
const DELTA_MAX = 30;

/** What a model returns for a structured-output request: records with strings, numbers, booleans, nested objects. */
function documentText(bytes, seed) {
  const rnd = random(seed);
  const items = [];
  let size = 0;
  while (size < bytes) {
    const i = items.length;
    items.push({
      id: `item-${i}`,
      name: prose(rnd, 12 + Math.floor(rnd() * 20)),
      description: prose(rnd, 40 + Math.floor(rnd() * 120)),
      price: Math.round(rnd() * 100_000) / 100,
      quantity: Math.floor(rnd() * 50),
      inStock: rnd() < 0.7,
      tags: Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => prose(rnd, 4).toLowerCase()),
      dimensions: { width: Math.round(rnd() * 1000) / 10, height: Math.round(rnd() * 1000) / 10, unit: "cm" },
      rating: rnd() < 0.1 ? null : Math.round(rnd() * 50) / 10,
    });
    size += JSON.stringify({ items: [items.at(-1)] }, null, 2).length - 16; // as indented in the document
  }
  return JSON.stringify({ title: "Catalog", currency: "EUR", items }, null, 2);
}

function deltasOf(text, seed) {
  const rnd = random(seed);
  const out = [];
  for (let i = 0; i < text.length; ) {
    const size = DELTA_MIN + Math.floor(rnd() * (DELTA_MAX - DELTA_MIN + 1));
    out.push(text.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Does delta `i` of `count` get parsed, when a re-parser times 1 in `stride`? The last one always does. */
const sampled = (i, count, stride) => (count - 1 - i) % stride === 0;

/**
 * Each contender: the value after every delta (a re-parser: after 1 in `stride`); returns the last value and the
 * number of items the values showed, summed (a use of every value). `repeat`: documents per timed sample, for the
 * fast ones (one 20 KB document is a few ms: too short to time alone on a shared machine).
 */
const CONTENDERS = [
  {
    name: "edgechat PartialJSON",
    repeat: { "20 KB": 20, "200 KB": 3 },
    run(deltas) {
      const parser = new PartialJSON();
      let seen = 0;
      for (const delta of deltas) seen += parser.push(delta)?.items?.length ?? 0;
      return { value: parser.end(), seen };
    },
  },
  {
    name: "partial-json parse (re-parse per delta)",
    stride: { "200 KB": STRIDE },
    run(deltas, stride) {
      let text = "";
      let value;
      let seen = 0;
      for (let i = 0; i < deltas.length; i++) {
        text += deltas[i];
        if (!sampled(i, deltas.length, stride)) continue;
        value = partialJsonParse(text);
        seen += value?.items?.length ?? 0;
      }
      return { value, seen };
    },
  },
  {
    name: "AI SDK parsePartialJson (re-parse per delta)",
    stride: { "200 KB": STRIDE },
    async run(deltas, stride) {
      let text = "";
      let value;
      let seen = 0;
      for (let i = 0; i < deltas.length; i++) {
        text += deltas[i];
        if (!sampled(i, deltas.length, stride)) continue;
        ({ value } = await parsePartialJson(text));
        seen += value?.items?.length ?? 0;
      }
      return { value, seen };
    },
  },
  {
    // Not a contender: the whole text parsed once, when it has all arrived (no value along the way), for scale.
    name: "JSON.parse once, at the end (floor)",
    repeat: { "20 KB": 20, "200 KB": 3 },
    run: (deltas) => ({ value: JSON.parse(deltas.join("")), seen: 0 }),
  },
];
const BASE = CONTENDERS[0].name;

/** A summary of `k`-document samples as per document (a re-parser's 1-in-k sample: k = 1/stride). */
function perDocument(summary, k) {
  const scale = (s) => ({ ...s, median: s.median / k, min: s.min / k, max: s.max / k, samples: s.samples.map((v) => v / k) });
  return { ...scale(summary), cpu: scale(summary.cpu) };
}

export async function run() {
  const sizes = [
    { name: "20 KB", bytes: 20_000 },
    { name: "200 KB", bytes: 200_000 },
  ];
  console.log(
    `\nStructured output: a JSON object (records: strings, numbers, booleans, nested objects; pretty-printed) streamed in ` +
      `${DELTA_MIN}–${DELTA_MAX}-character deltas (~5 tokens), the value read after every delta; 1 warm-up + ${RUNS} runs per contender, interleaved`,
  );
  const rows = [];
  for (const size of sizes) {
    const text = documentText(size.bytes, 18);
    const deltas = deltasOf(text, 5);
    const want = JSON.stringify(JSON.parse(text));
    const raw = await rounds(
      CONTENDERS.map((c) => ({
        name: c.name,
        async run() {
          let last;
          for (let r = 0; r < (c.repeat?.[size.name] ?? 1); r++) last = await c.run(deltas, c.stride?.[size.name] ?? 1);
          return last;
        },
        check(result) {
          if (JSON.stringify(result.value) !== want) throw new Error(`${c.name} on ${size.name}: the final value differs from JSON.parse's`);
        },
      })),
      { warmup: 1, runs: RUNS },
    );
    const stats = new Map(CONTENDERS.map((c) => [c.name, perDocument(raw.get(c.name), (c.repeat?.[size.name] ?? 1) / (c.stride?.[size.name] ?? 1))]));
    const base = stats.get(BASE);
    const table = CONTENDERS.map((c) => {
      const s = stats.get(c.name);
      const stride = c.stride?.[size.name] ?? 1;
      const row = {
        document: size.name,
        chars: text.length,
        deltas: deltas.length,
        contender: c.name,
        timedDeltas: stride === 1 ? deltas.length : Math.ceil(deltas.length / stride),
        ms: s,
        usPerDelta: (s.median * 1000) / deltas.length,
        vsEdgechat: paired(s, base),
        vsEdgechatCpu: paired(s, base, "cpu"),
      };
      rows.push(row);
      return row;
    });
    const strided = CONTENDERS.filter((c) => (c.stride?.[size.name] ?? 1) > 1).map((c) => c.name.split(" (")[0]);
    printTable(
      `Value after every delta — ${size.name} (${fmt.n(text.length)} characters, ${fmt.n(deltas.length)} deltas)`,
      ["contender", "ms per document median (min–max)", "µs per delta", "× edgechat's time", "(CPU)"],
      table.map((r) => ({
        contender: r.contender,
        "ms per document median (min–max)": fmt.range(r.ms, (ms) => ms),
        "µs per delta": fmt.sig(r.usPerDelta),
        "× edgechat's time": fmt.ratio(r.vsEdgechat),
        "(CPU)": fmt.ratio(r.vsEdgechatCpu),
      })),
      strided.length ? [`${strided.join(" and ")}: timed on 1 delta in ${STRIDE} (the last included), × ${STRIDE} (BENCH_JSON_STRIDE=1 times every delta)`] : [],
    );
  }
  const at = (doc, name) => rows.find((r) => r.document === doc && r.contender === name);
  console.log(
    "\n  × edgechat's time = median over rounds of (this contender's time / PartialJSON's time) in the same round: > 1 is slower than PartialJSON." +
      "\n  PartialJSON's value is live (mutated in place, no copy per delta); the re-parsers build a new value every delta." +
      "\n  10× the document: µs per delta grows" +
      CONTENDERS.slice(0, 3).map((c) => ` ${fmt.ratio(at("200 KB", c.name).usPerDelta / at("20 KB", c.name).usPerDelta)} for ${c.name.split(" (")[0]}`).join(",") +
      " (flat is linear in the document; 10× is quadratic).",
  );
  return {
    setup: { runs: RUNS, warmup: 1, stride: STRIDE, deltaChars: [DELTA_MIN, DELTA_MAX] },
    rows: rows.map(({ ms, ...r }) => ({ ...r, ms: brief(ms) })),
  };
}
