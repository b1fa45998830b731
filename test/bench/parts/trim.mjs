// Part 3 — trimming a history to a budget: fitToContext vs @langchain/core's trimMessages, same counter.
import { AIMessage, HumanMessage, SystemMessage, trimMessages } from "@langchain/core/messages";
import { conversationTexts, prose, roleOf } from "../lib/conversation.mjs";
import { load } from "../lib/edgechat.mjs";
import { random } from "../lib/events.mjs";
import { fmt, gc, now, printTable, summarize, target } from "../lib/measure.mjs";

const { fitToContext, estimateTokens } = await load(".");

const SIZES = [100, 1_000, 10_000];
const WINDOWS = [
  ["8k", 8_192],
  ["32k", 32_768],
  ["128k", 131_072],
];
const MAX_OUTPUT = 1_024;
// Llama 3's chat template, as fitToContext counts it (src/conversation/template.ts): the same for both contenders.
const PER_MESSAGE = 5;
const PER_REQUEST = 26;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const INCREMENTS = 100; // appended turns timed one by one, per run
const CELL_CAP_MS = 2_000; // a LangChain cell stops repeating once it has used this much (its first call then counts)
const SKIP_PREDICTED_MS = 3_000; // ... and is not run at all when one call is predicted to take longer than this

const plainCounter = (messages) => {
  let n = PER_REQUEST;
  for (const m of messages) n += estimateTokens(m.content) + PER_MESSAGE;
  return n;
};
/** The same counter, memoized per message object (LangChain copies the messages on every call, so this helps within one call only). */
function memoCounter() {
  const cache = new WeakMap();
  return (messages) => {
    let n = PER_REQUEST;
    for (const m of messages) {
      let c = cache.get(m);
      if (c === undefined) cache.set(m, (c = estimateTokens(m.content) + PER_MESSAGE));
      n += c;
    }
    return n;
  };
}

const ours = (texts) => texts.map((content, i) => ({ role: roleOf(i), content }));
const theirs = (texts) => texts.map((content, i) => (i === 0 ? new SystemMessage(content) : i % 2 ? new HumanMessage(content) : new AIMessage(content)));

function timeOnce(f) {
  const t0 = now();
  const value = f();
  return [now() - t0, value];
}
async function timeOnceAsync(f) {
  const t0 = now();
  const value = await f();
  return [now() - t0, value];
}

export async function run() {
  console.log(
    `\nTrimming: conversations of ${SIZES.map((n) => fmt.n(n)).join(" / ")} messages (system + user/assistant turns, ` +
      `~${fmt.n(averageChars())} chars each) to ${WINDOWS.map(([w]) => w).join(" / ")} windows, ${fmt.n(MAX_OUTPUT)} tokens reserved for the reply.` +
      `\nCounter for both: estimateTokens(content) + ${PER_MESSAGE} per message + ${PER_REQUEST} per request (Llama 3's template). ` +
      `LangChain: trimMessages({ strategy: "last", startOn: "human", includeSystem: true, maxTokens: fitToContext's budget }).`,
  );
  const rows = [];
  const results = [];
  for (const size of SIZES) {
    // The system message and size − 1 others, starting and (size being even) ending with a user message.
    const texts = conversationTexts(size - 1);
    const rnd = random(size);
    const extra = Array.from({ length: (RUNS + 1) * INCREMENTS }, () => [prose(rnd, 600), prose(rnd, 120)]);
    for (const [label, contextWindow] of WINDOWS) {
      const options = { contextWindow, maxOutputTokens: MAX_OUTPUT };
      const cell = { size, window: label };

      // edgechat, first fit: fresh message objects every run (nothing cached).
      const firsts = [];
      let fit;
      for (let r = 0; r < RUNS + 1; r++) {
        const messages = ours(texts);
        gc();
        const [ms, value] = timeOnce(() => fitToContext(messages, options));
        fit = value;
        if (r > 0) firsts.push(ms);
      }
      // edgechat, incremental: the same objects, one turn (assistant reply + next user message) appended each time.
      const incs = [];
      {
        const messages = ours(texts);
        fitToContext(messages, options);
        let k = 0;
        for (let r = 0; r < RUNS + 1; r++) {
          gc();
          for (let i = 0; i < INCREMENTS; i++, k++) {
            messages.push({ role: "assistant", content: extra[k][0] }, { role: "user", content: extra[k][1] });
            const [ms] = timeOnce(() => fitToContext(messages, options));
            if (r > 0) incs.push(ms);
          }
        }
      }
      const budget = fit.budget;
      const lcOptions = (tokenCounter) => ({ maxTokens: budget, tokenCounter, strategy: "last", startOn: "human", includeSystem: true });

      // LangChain: memoized counter (first fit = fresh messages and a fresh memo) and plain counter.
      const lc = {};
      for (const variant of ["memo", "plain"]) {
        const predicted = variant === "plain" ? predict(results, variant, size, label) : 0;
        if (predicted > SKIP_PREDICTED_MS) {
          lc[variant] = { skipped: `not run: quadratic in the messages dropped, predicted ~${fmt.n(predicted / 1000, 0)} s per call` };
          continue;
        }
        const samples = [];
        let kept;
        let spent = 0;
        for (let r = 0; r < RUNS + 1 && (r === 0 || spent < CELL_CAP_MS); r++) {
          const messages = theirs(texts);
          gc();
          const [ms, value] = await timeOnceAsync(() => trimMessages(messages, lcOptions(variant === "memo" ? memoCounter() : plainCounter)));
          kept = value.length;
          spent += ms;
          if (r > 0 || (r === 0 && spent >= CELL_CAP_MS)) samples.push(ms);
        }
        lc[variant] = { summary: summarize(samples), kept };
      }

      const first = summarize(firsts);
      const inc = summarize(incs);
      const same = lc.memo.kept === undefined ? "—" : lc.memo.kept === fit.messages.length ? "yes" : `no (${lc.memo.kept})`;
      const row = {
        messages: fmt.n(size),
        window: label,
        kept: fmt.n(fit.messages.length),
        "same as LC": same,
        "fitToContext first (ms)": fmt.range(first, (v) => v),
        "incremental (µs)": fmt.range(inc, (v) => v * 1000),
        "LC memo counter (ms)": lc.memo.summary ? fmt.range(lc.memo.summary, (v) => v) : "skipped",
        "LC plain counter (ms)": lc.plain.summary ? fmt.range(lc.plain.summary, (v) => v) : "skipped",
        "LC memo ÷ incremental": lc.memo.summary ? `${fmt.n(lc.memo.summary.median / inc.median, 0)}×` : "—",
      };
      rows.push(row);
      results.push({
        ...cell,
        budget,
        kept: fit.messages.length,
        droppedTurns: fit.droppedTurns,
        firstMs: pick(first),
        incrementalMs: pick(inc),
        langchainMemo: lc.memo.summary ? { ...pick(lc.memo.summary), kept: lc.memo.kept } : lc.memo,
        langchainPlain: lc.plain.summary ? { ...pick(lc.plain.summary), kept: lc.plain.kept } : lc.plain,
      });
    }
  }
  printTable(
    "Trimming — fitToContext vs LangChain trimMessages (median (min–max))",
    Object.keys(rows[0]),
    rows,
    [
      `first = fresh message objects (cold per-message cost cache); incremental = the same objects + 1 new turn, ${INCREMENTS} appends per run timed one by one.`,
      "LangChain has no state between calls: a call costs the same whether or not the history is new; its per-call copy of every",
      "message defeats a cross-call memo, and its 'last' strategy re-counts ever shorter prefixes (quadratic in the messages dropped).",
      "LC ÷ incremental: LangChain (memoized counter) time over edgechat's incremental fit of the same conversation.",
    ],
  );
  for (const r of results) {
    if (r.langchainMemo.skipped) console.log(`  LangChain memo, ${fmt.n(r.size)} messages @ ${r.window}: ${r.langchainMemo.skipped}`);
    if (r.langchainPlain.skipped) console.log(`  LangChain plain, ${fmt.n(r.size)} messages @ ${r.window}: ${r.langchainPlain.skipped}`);
  }

  console.log("\nTrimming targets:");
  const targets = [];
  for (const r of results.filter((r) => r.size === 10_000)) {
    const us = r.incrementalMs.median * 1000;
    targets.push(target(`incremental fit, 10,000 messages, ${r.window} window ≤ 50 µs`, us <= 50, `${fmt.sig(us)} µs median (${fmt.sig(r.incrementalMs.min * 1000)}–${fmt.sig(r.incrementalMs.max * 1000)})`));
  }
  return { setup: { sizes: SIZES, windows: Object.fromEntries(WINDOWS), maxOutput: MAX_OUTPUT, runs: RUNS, increments: INCREMENTS }, rows: results, targets };
}

function pick(s) {
  const r = (v) => Math.round(v * 1e4) / 1e4;
  return { median: r(s.median), min: r(s.min), max: r(s.max), runs: s.runs };
}

/** LangChain's time for a cell, predicted from the same variant one size down (×10 messages → ~×100 time: each of the
 * ~n dropped messages costs a re-count of a prefix of ~n messages with the plain counter). */
function predict(results, variant, size, window) {
  const smaller = results.find((r) => r.window === window && r.size === size / 10);
  const prev = smaller?.[variant === "memo" ? "langchainMemo" : "langchainPlain"];
  if (!prev || prev.skipped) return prev?.skipped ? Infinity : 0;
  return prev.median * 100;
}

function averageChars() {
  const texts = conversationTexts(1000);
  return texts.reduce((n, t) => n + t.length, 0) / texts.length;
}
