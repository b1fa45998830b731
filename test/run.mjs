#!/usr/bin/env node
// `npm test`: type-check, build, scan the build for Node APIs, then every suite (vitest projects and Deno),
// and end with one "N passed, N failed" line that counts them all. Exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const out = ".ci-out";
mkdirSync(out, { recursive: true });
let passed = 0;
let failed = 0;
const failures = [];

function step(name, command, args, options = {}) {
  console.log(`\n▶ ${name}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8" });
  if (options.capture) process.stdout.write(result.stdout ?? "");
  if (result.status !== 0) failures.push(name);
  return result;
}

const bin = (name) => join("node_modules", ".bin", name);

step("type-check src (no Node types)", bin("tsc"), ["-p", "tsconfig.json"]);
step("type-check tests", bin("tsc"), ["-p", "test/tsconfig.json"]);
step("type-check the demo Worker (no Node types)", bin("tsc"), ["-p", "demo/worker/tsconfig.json"]);
step("type-check the demo page", bin("tsc"), ["-p", "demo/tsconfig.json"]);
step("type-check the Deno chat", bin("deno"), ["check", "demo/deno/chat.ts"]);
const build = step("library build", bin("vite"), ["build", "--logLevel", "warn"]);

if (build.status === 0) {
  // The last of three no-Node layers: what tsc and the build plugin let through (e.g. globalThis.process).
  const forbidden = /from\s*["']node:|__vite-browser-external|\brequire\(|\bprocess\.|\bBuffer\b/;
  const hits = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".js")) {
        readFileSync(path, "utf8").split("\n").forEach((line, i) => forbidden.test(line) && hits.push(`${path}:${i + 1}: ${line.trim()}`));
      }
    }
  };
  walk("dist");
  console.log(`\n▶ no-Node scan of dist/: ${hits.length === 0 ? "clean" : "FOUND"}`);
  if (hits.length > 0) {
    console.log(hits.join("\n"));
    failures.push("no-Node scan");
  }
}

const vitest = step("vitest (node, chromium, workers, package)", bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${out}/vitest.json`,
]);
try {
  const report = JSON.parse(readFileSync(`${out}/vitest.json`, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (vitest.status !== 0 && report.numFailedTests === 0 ? 1 : 0);
} catch {
  failed += 1;
}

// Deno suites print Deno's own summary ("ok | 9 passed | 0 failed"); count from its last such line.
for (const [name, script] of [
  ["deno: the packed package", "test/runtimes/deno/run.mjs"],
  ["deno: Deno KV store", "test/store/deno/run.mjs"],
]) {
  if (!existsSync(script)) continue;
  const deno = step(name, "node", [script], { capture: true });
  const summary = (deno.stdout ?? "").split("\n").reverse().find((l) => /passed.*failed/.test(l)) ?? "";
  const p = /(\d+) passed/.exec(summary);
  const f = /(\d+) failed/.exec(summary);
  passed += Number(p?.[1] ?? 0);
  failed += Number(f?.[1] ?? 0) + (deno.status !== 0 && !f?.[1] ? 1 : 0);
}

if (failures.length > 0) console.log(`\nFailed steps: ${failures.join(", ")}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failures.length > 0 || failed > 0 ? 1 : 0);
