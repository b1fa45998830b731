// Part 7 — a turn's latency: the time from `conversation.send()` to the request leaving (the SDK calling fetch),
// before and after "a turn is one critical section" (11d0a4e: lock → read the newest → append and await the write →
// send), with no store (the floor), the memory store, and edgechat/idb on real IndexedDB in Chromium.
//
// "Before" is built live from git (BENCH_TURN_BEFORE, default f574e21: the commit before that series) with the
// options of vite.config.ts (test/bench/turn/build-before.mjs, ~1 s); "after" is the current build (dist/, or
// BENCH_DIST), or BENCH_TURN_AFTER=<ref> built the same way as "before". When the old commit cannot be built (a
// shallow clone, no git), the recorded baseline below (also in test/bench/README.md) is printed instead, marked so.
import { execFileSync } from "node:child_process";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, exportTarget } from "../lib/edgechat.mjs";
import { chunk, encodeEvents, replyPayloads, sseEvents } from "../lib/events.mjs";
import { fmt, gc, printTable, target } from "../lib/measure.mjs";
import { inBenchPage, startPageServer } from "../lib/page-server.mjs";
import { runTurns } from "../turn/workload.mjs";

const SENDS = Number(process.env.BENCH_TURN_SENDS ?? 100);
const HISTORY = Number(process.env.BENCH_TURN_HISTORY ?? 20);
const GAP_MS = Number(process.env.BENCH_TURN_GAP_MS ?? 5);
const BEFORE = process.env.BENCH_TURN_BEFORE ?? "f574e21";
const AFTER = process.env.BENCH_TURN_AFTER; // unset: the current build
/** The constraint of issue 12: a single-tab send may not get noticeably slower. */
const BUDGET_MS = 2;
const STORES = ["no store", "memory store", "IndexedDB"];

/**
 * The "before" figures of a recorded run (see test/bench/README.md), shown when the old commit cannot be built here.
 * ms, send() → fetch called; median / p95.
 */
const RECORDED = {
  commit: "f574e21",
  date: "2026-12-07",
  machine: "Node 20.20.2, Chromium 156, 2 × AMD EPYC, load average ~11",
  rows: {
    "Node|no store": { median: 0.872, p95: 6.809 },
    "Node|memory store": { median: 0.971, p95: 5.292 },
    "Chromium|no store": { median: 0.607, p95: 1.555 },
    "Chromium|memory store": { median: 0.61, p95: 1.445 },
    "Chromium|IndexedDB": { median: 4.193, p95: 26.64 },
  },
};

export async function run() {
  const current = join(exportTarget(".") ?? join(ROOT, "dist/index.js"), "..");
  const after = AFTER ? build(AFTER, "turn-after") : { dist: current, label: `the current build (${relative(ROOT, current) || "."})` };
  if (after.error) throw new Error(`BENCH_TURN_AFTER=${AFTER}: ${after.error}`);
  const before = build(BEFORE, "turn-before");
  const builds = { before: before.dist, after: after.dist };
  if (before.error) delete builds.before;

  // A chat-sized reply (~460 characters) in 12 content events, one write: the turn awaits it before the next send.
  // (What the reply costs comes after the fetch; few events keep the bench short.)
  const reply = replyOf(replyPayloads(120, 3).text, 12);
  const body = Buffer.from(encodeEvents(sseEvents(reply.payloads)).bytes);

  console.log(
    `\nTurn: send() → the request leaving (the SDK calling fetch: a \`fetch\` given to createClient notes the time). ` +
      `${HISTORY} earlier turns, then ${SENDS} timed sends per contender, interleaved send by send; ${GAP_MS} ms idle between sends.` +
      `\nbefore: ${before.error ? `NOT BUILT (${before.error}) — recorded figures of ${RECORDED.commit} (${RECORDED.date}, ${RECORDED.machine}) shown instead` : `${before.sha.slice(0, 7)} "${before.subject.slice(0, 70)}" (built in ${before.ms} ms)`}` +
      `\nafter:  ${after.sha ? `${after.sha.slice(0, 7)} "${after.subject.slice(0, 70)}" (built in ${after.ms} ms)` : after.label}`,
  );

  const { server, origin, arrival } = await startServer(builds, body);
  const rows = [];
  try {
    // Node: no store and the memory store.
    const load = async (dist) => import(pathToFileURL(join(dist, "index.js")).href);
    const contenders = [];
    for (const [store, label] of [
      ["none", "no store"],
      ["memory", "memory store"],
    ]) {
      for (const [name, dist] of Object.entries(builds)) {
        const main = await load(dist);
        contenders.push({ name: `${label}|${name}`, build: main, ...(store === "memory" && { makeStore: () => main.createMemoryStore() }) });
      }
    }
    let t0 = performance.now();
    const node = await runTurns(contenders, { origin, history: HISTORY, sends: SENDS, gapMs: GAP_MS, arrival, beforeRound: gc, expectedText: reply.text });
    rows.push(...toRows("Node", node.results));
    const seconds = { node: (performance.now() - t0) / 1000 };

    t0 = performance.now();
    const chromium = await inChromium(builds, origin, reply.text);
    seconds.chromium = (performance.now() - t0) / 1000;
    console.log(`(Node ${seconds.node.toFixed(1)} s, Chromium ${seconds.chromium.toFixed(1)} s)`);
    if (chromium.error) rows.push(...STORES.map((store) => ({ environment: "Chromium", store, error: chromium.error })));
    else rows.push(...toRows(`Chromium${chromium.idbNative && chromium.webLocks ? "" : " (NOT native IndexedDB + Web Locks!)"}`, chromium.results));
  } finally {
    server.closeAllConnections();
    server.close();
  }

  if (before.error) {
    for (const row of rows) {
      const recorded = RECORDED.rows[`${row.environment}|${row.store}`];
      if (recorded && !row.error) row.before = { total: { median: recorded.median, p95: recorded.p95 }, recorded: true };
    }
  }

  const beforeColumn = `before (${before.error ? `${RECORDED.commit}, recorded` : before.sha.slice(0, 7)})`;
  const afterColumn = `after (${after.sha ? after.sha.slice(0, 7) : "current"})`;
  const cell = (m) => (m ? `${fmt.sig(m.total.median)} / ${fmt.sig(m.total.p95)}` : "—");
  const delta = (r, key) => (r.before && r.after ? r.after.total[key] - r.before.total[key] : NaN);
  // Under 1 µs is 0 (the page's clock ticks in 5 µs).
  const signed = (v) => (!Number.isFinite(v) ? "—" : Math.abs(v) < 1e-3 ? "0" : `${v >= 0 ? "+" : "−"}${fmt.sig(Math.abs(v))}`);
  printTable(
    "Turn — send() → fetch called, ms: median / p95",
    ["environment", "store", beforeColumn, afterColumn, "Δ median", "Δ p95", "fetch → server (after)"],
    rows.map((r) =>
      r.error
        ? { environment: r.environment, store: r.store, [afterColumn]: `error: ${r.error}` }
        : {
            environment: r.environment,
            store: r.store,
            [beforeColumn]: cell(r.before),
            [afterColumn]: cell(r.after),
            "Δ median": signed(delta(r, "median")),
            "Δ p95": signed(delta(r, "p95")),
            "fetch → server (after)": r.after?.arrival ? `${fmt.sig(r.after.arrival.median)} / ${fmt.sig(r.after.arrival.p95)}` : "",
          },
    ),
    [
      `${SENDS} sends per row (after ${HISTORY} untimed turns: the conversation holds ${HISTORY}–${HISTORY + SENDS} turns while timed). Before and after run in the same process (the same page), send by send.`,
      "fetch → server: from the fetch call to the local server's 'request' event (Node only, same clock): the platform's share, not the SDK's.",
      "Chromium: a fresh on-disk profile, cross-origin isolated (performance.now() at ~5 µs).",
    ],
  );

  // Where the time goes: the store's calls before the fetch (median per send; a call not made counts 0).
  const methods = ["lock", "get", "loadMessages", "appendMessage", "updateMessage", "setCalibration"];
  const seen = methods.filter((m) => rows.some((r) => [r.before, r.after].some((x) => x?.breakdown?.[m]?.max > 0)));
  const breakdownRows = [];
  for (const r of rows) {
    for (const which of ["before", "after"]) {
      const m = r[which];
      if (!m?.breakdown) continue;
      const row = { environment: r.environment, store: r.store, build: which, "send → fetch": fmt.sig(m.total.median), "store calls": fmt.n(m.breakdown.calls?.median ?? 0) };
      for (const method of seen) row[method] = m.breakdown[method] ? fmt.sig(m.breakdown[method].median) : "";
      row["the rest"] = fmt.sig(m.breakdown.rest.median);
      breakdownRows.push(row);
    }
  }
  printTable(
    "Turn — where the time goes before the fetch, ms (median per send)",
    ["environment", "store", "build", "send → fetch", "store calls", ...seen, "the rest"],
    breakdownRows,
    [
      "lock: from lockConversation() to the lock granted (fn called); get / loadMessages: the pull of the newest meta and messages (after);",
      "appendMessage: the user message's write, awaited before the request (both builds); the rest: everything outside those calls",
      "(normalizing the content, scheduling, fitting the context, building and serializing the request). Medians do not add up exactly.",
    ],
  );

  console.log(`\nTargets (issue 12: a single-tab send must not get noticeably slower — after − before ≤ ${BUDGET_MS} ms median):`);
  const targets = [];
  for (const r of rows) {
    if (r.store === "no store" || r.error) continue;
    const d = delta(r, "median");
    targets.push(
      target(
        `${r.environment}, ${r.store}: send → fetch, after − before`,
        Number.isFinite(d) ? d <= BUDGET_MS : null,
        Number.isFinite(d)
          ? `${signed(d)} ms median (${fmt.sig(r.before.total.median)} → ${fmt.sig(r.after.total.median)} ms${r.before.recorded ? ", before as recorded" : ""}), p95 ${fmt.sig(r.before.total.p95)} → ${fmt.sig(r.after.total.p95)} ms`
          : "not measured",
      ),
    );
  }

  const brief = (m) =>
    m && {
      median: round(m.total.median),
      p95: round(m.total.p95),
      ...(m.total.min !== undefined && { min: round(m.total.min), max: round(m.total.max), mean: round(m.total.mean) }),
      ...(m.recorded && { recorded: true }),
      ...(m.arrival && { fetchToServer: { median: round(m.arrival.median), p95: round(m.arrival.p95) } }),
      ...(m.breakdown && { breakdown: Object.fromEntries(Object.entries(m.breakdown).map(([k, v]) => [k, { median: round(v.median), p95: round(v.p95), mean: round(v.mean) }])) }),
      ...(m.samples && { samples: m.samples.map(round) }),
    };
  return {
    setup: {
      sends: SENDS,
      history: HISTORY,
      gapMs: GAP_MS,
      before: before.error ? { ref: BEFORE, error: before.error, recorded: RECORDED } : { ref: BEFORE, sha: before.sha },
      after: after.sha ? { ref: AFTER, sha: after.sha } : { build: after.label },
      measure: "send() → the SDK's fetch call (a fetch passed to createClient)",
    },
    rows: rows.map((r) => ({ environment: r.environment, store: r.store, ...(r.error ? { error: r.error } : { before: brief(r.before), after: brief(r.after) }) })),
    targets,
  };
}

const round = (v) => Math.round(v * 1000) / 1000;

/** The payloads of a reply streaming `text` in `events` content events, with finish_reason and usage at the end. */
function replyOf(text, events) {
  const chars = Array.from(text); // code points: no emoji cut in half
  const size = Math.ceil(chars.length / events);
  const payloads = [JSON.stringify(chunk({ role: "assistant", content: "" }))];
  for (let at = 0; at < chars.length; at += size) payloads.push(JSON.stringify(chunk({ content: chars.slice(at, at + size).join("") })));
  const usage = { prompt_tokens: 1200, completion_tokens: 140, total_tokens: 1340, estimated_cost: 0.0000721 };
  payloads.push(JSON.stringify(chunk({ role: "assistant", content: "" }, { finish_reason: "stop", usage })));
  return { payloads, text };
}

function toRows(environment, results) {
  return STORES.filter((store) => results[`${store}|after`]).map((store) => ({ environment, store, before: results[`${store}|before`], after: results[`${store}|after`] }));
}

/** Build `ref` into .ci-out/bench/<name>/dist (test/bench/turn/build-before.mjs, in its own process). */
function build(ref, name) {
  const dir = join(ROOT, ".ci-out/bench", name);
  try {
    const out = execFileSync(process.execPath, [join(ROOT, "test/bench/turn/build-before.mjs"), ref, dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    return JSON.parse(out.toString().trim().split("\n").at(-1));
  } catch (error) {
    // The script's own message (a missing commit), else the first error line of a failed build.
    const lines = `${error.stderr ?? ""}`.trim().split("\n");
    const text = (lines.length === 1 ? lines[0] : lines.find((l) => /error/i.test(l))) || String(error.message).split("\n")[0];
    return { error: text };
  }
}

/** One server for both environments: the SSE endpoint, and for the page the builds, node_modules and the workload. */
async function startServer(builds, body) {
  let lastArrival = NaN;
  const { server, origin } = await startPageServer({
    title: "edgechat turn bench",
    page: "/bench/page.mjs",
    mounts: [...Object.entries(builds).map(([name, dir]) => [`/${name}/`, dir]), ["/bench/", join(ROOT, "test/bench/turn")]],
    async route(path, req, res, headers) {
      if (path !== "/v1/chat/completions") return false;
      lastArrival = performance.now();
      for await (const _ of req);
      res.writeHead(200, { ...headers, "content-type": "text/event-stream" }).end(body);
      return true;
    },
  });
  return { server, origin, arrival: () => lastArrival };
}

async function inChromium(builds, origin, expectedText) {
  try {
    const base = Object.fromEntries(Object.keys(builds).map((name) => [name, `/${name}/`]));
    const params = { builds: base, origin, history: HISTORY, sends: SENDS, gapMs: GAP_MS, expectedText };
    const r = await inBenchPage(origin, (page) => page.evaluate((params) => window.benchTurns(params), params));
    if (!r.isolated) console.log("NOTE: the page is not cross-origin isolated: performance.now() is coarse (100 µs).");
    return r;
  } catch (error) {
    return { error: String(error?.message ?? error).split("\n")[0].slice(0, 160) };
  }
}
