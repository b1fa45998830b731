// Timing helpers shared by every part: interleaved rounds, warm-up first, median and min–max of the samples.
//
// Contenders of one comparison run in rounds (A B C, A B C, ...) rather than one after the other, so a burst of
// load from another process on this machine lands on all of them instead of on one; ratios between contenders of
// the same round are what the reports compare, absolute times are noisy on a shared machine.

import { performance } from "node:perf_hooks";

/** `--expose-gc` is set by run.mjs for every part; without it (a part imported elsewhere) this is a no-op. */
export const gc = typeof globalThis.gc === "function" ? () => globalThis.gc() : () => {};

export const now = () => performance.now();

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(samples) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length, samples };
}

/** A summary for the JSON file: rounded, samples kept. */
export function brief(summary, digits = 3) {
  const r = (v) => Math.round(v * 10 ** digits) / 10 ** digits;
  const out = { median: r(summary.median), min: r(summary.min), max: r(summary.max), samples: summary.samples.map(r) };
  if (summary.cpu) out.cpuMedian = r(summary.cpu.median);
  return out;
}

/**
 * Run each contender `warmup + runs` times, interleaved, collecting milliseconds per run.
 * `contender.run()` returns a value that `contender.check(value)` must accept (or throws): every run is validated,
 * warm-up included, so a contender that skips work cannot win. Returns name → summary.
 */
export async function rounds(contenders, { warmup = 1, runs = 5 } = {}) {
  const samples = new Map(contenders.map((c) => [c.name, { wall: [], cpu: [] }]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const c of contenders) {
      gc();
      const cpu0 = process.cpuUsage();
      const t0 = now();
      const value = await c.run();
      const ms = now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (c.check) c.check(value);
      if (round >= warmup) {
        samples.get(c.name).wall.push(ms);
        samples.get(c.name).cpu.push((cpu.user + cpu.system) / 1000);
      }
    }
  }
  // Wall-clock time is what the tables show. CPU time of this process (all its threads) is kept alongside in the
  // JSON: on a loaded machine it is the steadier of the two, on a quiet one they agree for single-threaded work.
  return new Map([...samples].map(([name, s]) => [name, { ...summarize(s.wall), cpu: summarize(s.cpu) }]));
}

/**
 * Median over rounds of base/other: how many times faster `other` was than `base` in the same round (> 1: faster).
 * `clock` "cpu" compares this process's CPU time instead of wall time (steadier on a loaded machine).
 */
export function paired(base, other, clock = "wall") {
  const a = clock === "cpu" ? base.cpu.samples : base.samples;
  const b = clock === "cpu" ? other.cpu.samples : other.samples;
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push(a[i] / b[i]);
  return median(ratios);
}

// --- formatting ---

export const fmt = {
  n(value, digits = 0) {
    if (!Number.isFinite(value)) return "—";
    return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  },
  /** Three significant figures, no grouping noise for small values. */
  sig(value) {
    if (!Number.isFinite(value)) return "—";
    const abs = Math.abs(value);
    if (abs >= 100) return fmt.n(value, 0);
    if (abs >= 10) return fmt.n(value, 1);
    if (abs >= 1) return fmt.n(value, 2);
    return value.toPrecision(3);
  },
  ratio(value) {
    return Number.isFinite(value) ? `${value.toFixed(2)}×` : "—";
  },
  pct(value, digits = 1) {
    return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : "—";
  },
  /** "median (min–max)" of a summary, each value mapped by `f`. For rates (higher is better) min and max swap. */
  range(summary, f, rate = false) {
    const lo = f(rate ? summary.max : summary.min);
    const hi = f(rate ? summary.min : summary.max);
    return `${fmt.sig(f(summary.median))} (${fmt.sig(lo)}–${fmt.sig(hi)})`;
  },
  kb(bytes) {
    return `${(bytes / 1000).toFixed(2)} KB`;
  },
};

/** Print an aligned table; numbers-looking cells are right-aligned. */
export function printTable(title, columns, rows, notes = []) {
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((r) => /^[\s\d.,×%()–—+-]*(?:[µm]?s|KB|MB\/s|k|M)?[\s\d.,×%()–—+-]*$/.test(r[i]) || r[i] === ""));
  const line = (values) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ").trimEnd();
  console.log(`\n${title}`);
  console.log(line(columns));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells) console.log(line(r));
  for (const note of notes) console.log(`  ${note}`);
}

/** A target line for the report: `met` true/false, or null when it could not be measured. */
export function target(name, met, detail) {
  const mark = met === null ? "n/a " : met ? "MET " : "MISS";
  console.log(`  [${mark}] ${name}: ${detail}`);
  return { name, met, detail };
}
