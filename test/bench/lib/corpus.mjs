// The token-estimator corpus of test/tokens/corpus.ts, used as is: Node 20 cannot import TypeScript, so the file is
// stripped of its types with vite's oxc transform into .ci-out/bench/ and imported from there. One source of truth
// for what "prose", "code", "json", "cjk"... mean, shared with the tests that tune the estimator.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { transformWithOxc } from "vite";
import { ROOT } from "./edgechat.mjs";

export async function importCorpus() {
  const source = join(ROOT, "test/tokens/corpus.ts");
  const { code } = await transformWithOxc(readFileSync(source, "utf8"), source, { lang: "ts" });
  const dir = join(ROOT, ".ci-out/bench");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, "corpus.mjs");
  writeFileSync(out, `// Generated from test/tokens/corpus.ts by test/bench/lib/corpus.mjs: do not edit.\n${code}`);
  const module = await import(pathToFileURL(out).href);
  // Its default root is relative to its own location; pass the project's node_modules explicitly.
  return { ...module, loadCorpus: (options = {}) => module.loadCorpus({ root: join(ROOT, "node_modules"), ...options }) };
}
