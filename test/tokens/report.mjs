// The estimator's accuracy per kind and per script, as a markdown table: the numbers the README quotes.
//
//   node test/tokens/report.mjs                          # held-out half, src/tokens/estimate.ts
//   node test/tokens/report.mjs --before HEAD            # ... next to the estimator at a git revision
//   node test/tokens/report.mjs --before old.ts --split fit
//
// Every message of test/tokens/corpus.ts (node_modules, "nm ...") and test/tokens/gettext.ts (Debian's translated
// messages) is counted with llama3-tokenizer-js. Columns, per group: messages; the share under-counted by more than
// 10% (the target: ≤ 5%); the worst under-count; the mean error (how much too high on average); the mean |error|.
// Node cannot import TypeScript, so the .ts files are stripped of their types with vite's oxc transform into
// .ci-out/tokens-report/ first.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import llama3Tokenizer from "llama3-tokenizer-js";
import { transformWithOxc } from "vite";

const ROOT = resolve(import.meta.dirname, "../..");
const OUT = join(ROOT, ".ci-out/tokens-report");
const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const split = option("--split") ?? "test";
const before = option("--before");

/** Strips a TypeScript module into OUT as `name`.mjs, with its "./x.ts" imports pointing at the stripped copies. */
async function strip(source, name, path = "src.ts") {
  const { code } = await transformWithOxc(source, path, { lang: "ts" });
  const file = join(OUT, `${name}.mjs`);
  writeFileSync(file, code.replace(/from "\.\/(\w+)\.ts"/g, 'from "./$1.mjs"'));
  return file;
}

mkdirSync(OUT, { recursive: true });
const read = (path) => readFileSync(join(ROOT, path), "utf8");
await strip(read("test/tokens/corpus.ts"), "corpus", "corpus.ts");
const gettextSource = read("test/tokens/gettext.ts").replace(
  '"../fixtures/tokens/gettext.json", import.meta.url',
  `${JSON.stringify(pathToFileURL(join(ROOT, "test/fixtures/tokens/gettext.json")).href)}`,
);
const { loadCorpus } = await import(pathToFileURL(join(OUT, "corpus.mjs")).href);
const { loadGettext } = await import(pathToFileURL(await strip(gettextSource, "gettext", "gettext.ts")).href);

const estimators = [["now", read("src/tokens/estimate.ts")]];
if (before) {
  const source = /\.ts$/.test(before)
    ? readFileSync(resolve(before), "utf8")
    : execFileSync("git", ["show", `${before}:src/tokens/estimate.ts`], { cwd: ROOT, encoding: "utf8" });
  estimators.unshift([`before (${before})`, source]);
}
const counters = [];
for (const [label, source] of estimators) {
  const file = await strip(source, `estimate-${counters.length}`);
  counters.push([label, (await import(pathToFileURL(file).href)).estimateTokens]);
}

/** The script most of a text's non-ASCII letters are in (as estimate.test.ts groups node_modules' "other" kind). */
function scriptOf(text) {
  const count = (re) => text.match(re)?.length ?? 0;
  const latin = count(/(?![\0-\x7f])\p{Script=Latin}/gu);
  const cyrillic = count(/\p{Script=Cyrillic}/gu);
  const other = count(/(?![\p{Script=Latin}\p{Script=Cyrillic}])\p{L}/gu);
  return latin >= cyrillic && latin >= other ? "Latin" : cyrillic >= other ? "Cyrillic" : "other";
}

const groups = new Map();
const add = (group, text) => {
  const truth = llama3Tokenizer.encode(text, { bos: false, eos: false }).length;
  if (truth > 0) (groups.get(group) ?? groups.set(group, []).get(group)).push({ text, truth });
};
for (const m of loadCorpus({ root: join(ROOT, "node_modules"), split })) {
  add(m.kind === "other" ? `nm other: ${scriptOf(m.text)}` : `nm ${m.kind}`, m.text);
}
for (const m of loadGettext(split)) add(m.group, m.text);

const percent = (x) => `${x > 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
const header = ["group", "messages"];
for (const [label] of counters) header.push(`${label}: under >10%`, "worst", "mean", "mean |err|");
const rows = [];
const order = ([a], [b]) => (a.startsWith("nm") === b.startsWith("nm") ? (a < b ? -1 : 1) : a.startsWith("nm") ? 1 : -1);
for (const [group, messages] of [...groups].sort(order)) {
  const row = [group, String(messages.length)];
  for (const [, estimate] of counters) {
    const errors = messages.map((m) => (estimate(m.text) - m.truth) / m.truth);
    const under = errors.filter((e) => e < -0.1).length / errors.length;
    row.push(`${(under * 100).toFixed(1)}%`, percent(Math.min(0, ...errors)));
    row.push(percent(errors.reduce((a, b) => a + b, 0) / errors.length));
    row.push(`${((errors.reduce((a, b) => a + Math.abs(b), 0) / errors.length) * 100).toFixed(1)}%`);
  }
  rows.push(row);
}
console.log(`Held-out ("${split}") half; error = (estimate − true) / true per message.\n`);
console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
