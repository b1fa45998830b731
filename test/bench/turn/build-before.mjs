#!/usr/bin/env node
// Build the package as it was at an older commit, for the `turn` part's before/after comparison:
//
//   node test/bench/turn/build-before.mjs <ref> <dir>
//
// `git archive <ref> src tsconfig.json` is unpacked into <dir> (nothing in the working tree or the repository's
// worktrees is touched), then built into <dir>/dist with the build options of vite.config.ts (library mode, one file
// per source module, valibot/idb external), so the old code is bundled exactly as the current dist/ is. <dir> must
// be inside the repository: the build's bare imports (valibot, idb) resolve to its node_modules.
// Prints one JSON line: { sha, subject, dir, dist, ms }.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "vite";

const ROOT = resolve(import.meta.dirname, "../../..");
const [ref, out] = process.argv.slice(2);
if (!ref || !out) {
  console.error("usage: build-before.mjs <ref> <dir>");
  process.exit(2);
}
const t0 = performance.now();
const git = (...args) => execFileSync("git", args, { cwd: ROOT, maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
let sha;
try {
  sha = git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`).toString().trim();
} catch {
  console.error(`no commit ${ref} in this clone (a shallow clone? git fetch --unshallow), or no git here`);
  process.exit(1);
}
const subject = git("log", "-1", "--format=%s", sha).toString().trim();
const dir = resolve(out);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
execFileSync("tar", ["-x", "-C", dir], { input: git("archive", "--format=tar", sha, "src", "tsconfig.json") });

// The entries of vite.config.ts that the bench loads (the others build the same shared modules).
const entries = { index: "src/index.ts", "store/idb/index": "src/store/idb/index.ts" };
for (const file of Object.values(entries)) if (!existsSync(join(dir, file))) throw new Error(`${sha.slice(0, 7)} has no ${file}`);
process.chdir(dir); // the build names each module by its path from here ("// src/store/memory.ts"), as dist/ does
await build({
  configFile: false,
  root: dir,
  logLevel: "warn",
  build: {
    target: "es2022",
    outDir: join(dir, "dist"),
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    lib: { entry: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(dir, v)])), formats: ["es"], fileName: (_format, name) => `${name}.js` },
    rollupOptions: {
      external: ["valibot", "idb", "llama3-tokenizer-js"],
      output: { preserveModules: true, preserveModulesRoot: join(dir, "src"), entryFileNames: "[name].js" },
    },
  },
});
console.log(JSON.stringify({ sha, subject, dir, dist: join(dir, "dist"), ms: Math.round(performance.now() - t0) }));
