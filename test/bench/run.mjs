#!/usr/bin/env node
// `npm run bench` (= vite build && node test/bench/run.mjs): edgechat side by side with its competitors.
//
//   node test/bench/run.mjs [all|sse|client|trim|tokens|idb|size|turn|relay|json ...]
//
// Each part runs in its own Node process (fresh heap and JIT, `--expose-gc` for a collection before every timed
// run), prints its tables, and reports its results back; everything ends up in .ci-out/bench.json. The parts
// import the BUILT package (dist/, through the package's own `exports`, as a user's code would).
//
// Knobs (environment; the defaults keep every part well under a minute on a quiet 2-core machine): see README.md.
import { fork } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "../..");
const OUT = join(ROOT, ".ci-out/bench.json");
const PARTS = ["sse", "client", "trim", "tokens", "idb", "size", "turn", "relay", "json"];

if (process.argv[2] === "--part") {
  // Child: run one part and send its results to the parent.
  const part = process.argv[3];
  const module = await import(join(HERE, "parts", `${part}.mjs`));
  const result = await module.run();
  process.send({ part, result }, () => process.exit(0));
} else {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const parts = asked.length === 0 || asked.includes("all") ? PARTS : asked;
  const unknown = parts.filter((p) => !PARTS.includes(p));
  if (unknown.length > 0) {
    console.error(`Unknown part: ${unknown.join(", ")}. Parts: ${PARTS.join(", ")}, all`);
    process.exit(2);
  }
  if (!existsSync(join(ROOT, "dist/index.js"))) {
    console.error("dist/ is missing: run `npm run build` first (npm run bench builds it for you).");
    process.exit(2);
  }

  const machine = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 1e9),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  console.log(`edgechat bench — Node ${machine.node}, ${machine.cores} × ${machine.cpu}, load average ${machine.loadAtStart.join(" ")}`);
  if (machine.loadAtStart[0] > machine.cores * 0.5) {
    console.log(`NOTE: the machine is loaded (1-min load ${machine.loadAtStart[0]} on ${machine.cores} cores): absolute times are noisy, read the ratios.`);
  }

  const report = existsSync(OUT) ? safeJSON(readFileSync(OUT, "utf8")) : undefined;
  // Running one part keeps the other parts' last results in the file (each part records when it ran).
  const results = { machine, parts: { ...(report?.parts ?? {}) } };
  let failed = false;
  const t0 = Date.now();
  for (const part of parts) {
    const started = Date.now();
    const load = loadavg()[0];
    console.log(`\n━━━━ ${part} ━━━━`);
    try {
      const result = await runPart(part);
      const seconds = (Date.now() - started) / 1000;
      results.parts[part] = { ranAt: new Date(started).toISOString(), seconds, load: [load, loadavg()[0]], ...result };
      console.log(`\n(${part}: ${seconds.toFixed(1)} s, load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)})`);
    } catch (error) {
      failed = true;
      results.parts[part] = { ranAt: new Date(started).toISOString(), error: String(error?.message ?? error) };
      console.error(`\n${part} FAILED: ${error?.message ?? error}`);
    }
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nTotal ${((Date.now() - t0) / 1000).toFixed(1)} s. Results: ${OUT.slice(ROOT.length + 1)}`);
  process.exit(failed ? 1 : 0);
}

function runPart(part) {
  return new Promise((resolve, reject) => {
    let result;
    const child = fork(fileURLToPath(import.meta.url), ["--part", part], {
      cwd: ROOT,
      execArgv: ["--expose-gc", "--max-old-space-size=4096"],
      stdio: ["inherit", "inherit", "inherit", "ipc"],
    });
    child.on("message", (message) => (result = message.result));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`the ${part} process exited with ${signal ?? `code ${code}`}`));
    });
  });
}

function safeJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
