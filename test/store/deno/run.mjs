#!/usr/bin/env node
// The Deno KV store's suite in real Deno: `node test/store/deno/run.mjs [extra deno test args]`.
// Runs kv_test.ts on the sources (src/*.ts, whose imports say .js: hence --sloppy-imports) with a fresh temp
// directory for the KV files, and no permission beyond reading and writing that directory, running the deno binary
// (the lock tests start other processes on the same database: kv_process.ts) and serving on 127.0.0.1 (their
// upstream). valibot resolves from the repository's node_modules (package.json present: nodeModulesDir "manual" is
// Deno's default), offline.
// Deno's own summary line ("ok | N passed | N failed (…)") ends the output; the exit code is Deno's.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const deno = join(root, "node_modules", ".bin", "deno");
const ci = process.env.CI !== undefined && !["", "0", "false"].includes(process.env.CI.toLowerCase());

const probe = existsSync(deno) ? spawnSync(deno, ["--version"], { encoding: "utf8" }) : undefined;
if (!probe || probe.status !== 0) {
  console.log(`deno is not available (${probe ? `${deno} --version failed` : `${relative(root, deno)} does not exist`}): npm ci installs it (devDependency "deno").`);
  if (ci) {
    console.log("FAILED | 0 passed | 1 failed (deno missing; under CI=true a missing runtime is a failure)");
    process.exit(1);
  }
  console.log("skipped | 0 passed | 0 failed (deno missing; set CI=true to make this a failure)");
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), "edgechat-kv-"));
const binary = realpathSync(deno);
const args = [
  "test",
  "--unstable-kv", // Deno.openKv
  "--sloppy-imports", // src/ imports "./x.js" that exist as ./x.ts
  "--no-lock", // no deno.lock in the repository
  `--allow-read=${dir}`,
  `--allow-write=${dir}`,
  `--allow-run=${binary}`,
  "--allow-net=127.0.0.1",
  ...process.argv.slice(2),
  join(here, "kv_test.ts"),
  "--",
  dir,
  binary,
];
console.log(`deno ${args.map((a) => (a.startsWith(`${root}/`) ? relative(root, a) : a)).join(" ")}`);
const env = { ...process.env };
if (!process.stdout.isTTY && env.FORCE_COLOR === undefined) env.NO_COLOR = "1";
const result = spawnSync(deno, args, { cwd: root, stdio: "inherit", env });
rmSync(dir, { recursive: true, force: true });
process.exit(result.status ?? 1);
