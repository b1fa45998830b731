#!/usr/bin/env node
// The Deno suite: `node test/runtimes/deno/run.mjs [extra deno test args]`.
// Packs the package (shared/pack.mjs), links ./node_modules to the consumer project that holds the installed
// tarball, then runs `deno test --allow-net=127.0.0.1` (no other permission) on this directory. Deno's own
// summary line ("ok | N passed | N failed (…)") ends stdout; the exit code is Deno's.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { preparePackage, ROOT } from "../shared/pack.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// The npm `deno` package's binary (a devDependency); DENO_BIN picks another, e.g. a system install.
const deno = process.env.DENO_BIN ?? join(ROOT, "node_modules", ".bin", "deno");

const probe = existsSync(deno) ? spawnSync(deno, ["--version"], { encoding: "utf8" }) : undefined;
if (!probe || probe.status !== 0) {
  const problem = probe ? `${deno} --version failed: ${probe.stderr || probe.error}` : `${deno} does not exist`;
  console.log(`deno is not available (${problem}). To install it: npm ci (deno is a devDependency; its binary comes from the optional dependency @deno/linux-x64-glibc, so do not install with --omit=optional).`);
  // Never a silent green: a suite that did not run fails, locally and under CI alike.
  console.log("FAILED | 0 passed | 1 failed (deno is missing)");
  process.exit(1);
}

const pkg = await preparePackage();
const link = join(here, "node_modules");
if (lstatSync(link, { throwIfNoEntry: false })) rmSync(link, { recursive: true, force: true });
symlinkSync(join(pkg.consumer, "node_modules"), link, "dir");

const args = ["test", "--allow-net=127.0.0.1", "--config", join(here, "deno.json"), ...process.argv.slice(2), here];
console.log(`deno ${args.map((a) => relative(process.cwd(), a) || a).join(" ")}  (edgechat ${pkg.version} from ${pkg.tarball})`);
const env = { ...process.env };
if (!process.stdout.isTTY && env.FORCE_COLOR === undefined) env.NO_COLOR = "1";
const result = spawnSync(deno, args, { stdio: "inherit", env });
process.exit(result.status ?? 1);
