// Part 6 — bundle size: each subpath export, and the code a user writes, bundled as an app bundles it.
import { existsSync } from "node:fs";
import { TARGETS, bundle, entryFile, SNIPPETS, subpaths } from "../../size/bundle.mjs";
import { fmt, printTable, target } from "../lib/measure.mjs";

const DIST = process.env.BENCH_DIST ?? "dist";

export async function run() {
  console.log(
    `\nBundle size: rolldown (vite 8's bundler), browser platform, ESM, minified, tree-shaken, dependencies bundled; gzip -9 and brotli -11. ` +
      `edgechat from ${DIST === "dist" ? "dist/ (what ships)" : DIST}. 1 KB = 1,000 bytes.`,
  );
  const from = DIST === "dist" ? "dist" : DIST;
  const results = { entries: [], snippets: [], targets: [] };

  // 1. Whole subpath exports: everything the entry exports, kept.
  const entryRows = [];
  for (const subpath of subpaths()) {
    const name = subpath === "." ? "edgechat" : `edgechat/${subpath.slice(2)}`;
    if (!existsSync(entryFile(subpath, from))) {
      entryRows.push({ entry: name, min: "not built" });
      results.entries.push({ entry: name, notBuilt: true });
      continue;
    }
    const r = await bundle(`export * from "${name}";`, { from, keepExports: true });
    results.entries.push({ entry: name, ...strip(r) });
    entryRows.push({ entry: `${name} (all exports)`, min: fmt.kb(r.bytes), gzip: fmt.kb(r.gzip), brotli: fmt.kb(r.brotli), lazy: r.lazy ? `+${fmt.kb(r.lazy.gzip)} gzip` : "" });
  }
  printTable("Size — each subpath export, all of its exports kept", ["entry", "min", "gzip", "brotli", "lazy"], entryRows, [
    "lazy: chunks behind a dynamic import(), loaded on first use; not in the initial figures.",
  ]);

  // 2. The code a user writes.
  const measure = async (label, library, code) => {
    const r = await bundle(code, { from });
    results.snippets.push({ snippet: label, library, ...strip(r) });
    return r;
  };
  const stream = {};
  for (const [library, code] of Object.entries(SNIPPETS.streamOne)) stream[library] = await measure("stream one completion", library, code);
  const conversation = await measure("Conversation", "edgechat", SNIPPETS.conversation);
  const tools = {};
  for (const [library, code] of Object.entries(SNIPPETS.tools)) tools[library] = await measure("a conversation with a tool", library, code);
  const object = {};
  for (const [library, code] of Object.entries(SNIPPETS.object)) object[library] = await measure("stream a typed object", library, code);
  const idbAvailable = existsSync(entryFile("./idb", from) ?? "/nonexistent");
  const idb = idbAvailable ? await measure("edgechat/idb", "edgechat", SNIPPETS.idb) : undefined;
  const conversationIdb = idbAvailable ? await measure("Conversation + edgechat/idb", "edgechat", SNIPPETS.conversationIdb) : undefined;

  const ours = stream.edgechat;
  const row = (snippet, library, r, extra = {}) => ({
    snippet,
    library,
    min: fmt.kb(r.bytes),
    gzip: fmt.kb(r.gzip),
    brotli: fmt.kb(r.brotli),
    "× edgechat (gzip)": extra.ratio ?? "",
    lazy: r.lazy ? `+${fmt.kb(r.lazy.gzip)} gzip` : "",
  });
  const rows = [
    ...Object.entries(stream).map(([library, r]) => row("stream one completion", library, r, { ratio: library === "edgechat" ? "1.00×" : fmt.ratio(r.gzip / ours.gzip) })),
    row("Conversation (send, stream, fit)", "edgechat", conversation),
    { snippet: "  … what Conversation adds", library: "edgechat", min: fmt.kb(conversation.bytes - ours.bytes), gzip: fmt.kb(conversation.gzip - ours.gzip), brotli: fmt.kb(conversation.brotli - ours.brotli) },
    ...Object.entries(tools).map(([library, r]) => row("a conversation with a tool (loop, schema → JSON Schema)", library, r, { ratio: fmt.ratio(r.gzip / tools.edgechat.gzip) })),
    { snippet: "  … what edgechat/tools adds to Conversation", library: "edgechat", min: fmt.kb(tools.edgechat.bytes - conversation.bytes), gzip: fmt.kb(tools.edgechat.gzip - conversation.gzip), brotli: fmt.kb(tools.edgechat.brotli - conversation.brotli) },
    ...Object.entries(object).map(([library, r]) => row("stream a typed object, partial values", library, r, { ratio: fmt.ratio(r.gzip / object.edgechat.gzip) })),
  ];
  if (idb) {
    rows.push(row("edgechat/idb (createIndexedDBStore + list)", "edgechat", idb));
    rows.push(row("Conversation in IndexedDB", "edgechat", conversationIdb));
    rows.push({
      snippet: "  … what edgechat/idb adds to Conversation",
      library: "edgechat",
      min: fmt.kb(conversationIdb.bytes - conversation.bytes),
      gzip: fmt.kb(conversationIdb.gzip - conversation.gzip),
      brotli: fmt.kb(conversationIdb.brotli - conversation.brotli),
    });
  } else rows.push({ snippet: "edgechat/idb", library: "edgechat", min: "not built" });
  printTable("Size — the code a user writes (initial load)", ["snippet", "library", "min", "gzip", "brotli", "× edgechat (gzip)", "lazy"], rows, [
    "stream one completion: create a client, stream a reply, print its text — edgechat and the AI SDK validate each chunk; openai-node does not.",
    "The snippets are in test/size/bundle.mjs (SNIPPETS). openai-node: openai; AI SDK: ai + @ai-sdk/openai-compatible (+ zod, its peer).",
    "Tools and typed objects: × edgechat compares with edgechat's own row of the same snippet (valibot schemas; the AI SDK's, zod).",
  ]);

  // 3. Where the bytes go, by source file (a bundle of src/ gives one module per file; dist/index.js is one module).
  for (const [label, code] of [
    ["stream one completion", SNIPPETS.streamOne.edgechat],
    ...(idbAvailable ? [["edgechat/idb", SNIPPETS.idb]] : []),
  ]) {
    const r = await bundle(code, { from: "src" });
    const total = r.modules.reduce((n, m) => n + m.minified, 0);
    console.log(`\n  Contributors to "${label}" (from src/, ~minified bytes each, ${fmt.kb(r.gzip)} gzip in all):`);
    console.log(`    ${r.modules.slice(0, 10).map((m) => `${m.id} ${fmt.n(m.minified)} (${fmt.pct(m.minified / total, 0)})`).join(", ")}`);
    results.snippets.push({ snippet: label, library: "edgechat (from src/)", ...strip(r), modules: r.modules });
  }

  console.log("\nSize targets (gzip):");
  results.targets.push(target(`stream one completion ≤ ${fmt.kb(TARGETS.streamOne)} (validation included)`, ours.gzip <= TARGETS.streamOne, fmt.kb(ours.gzip)));
  results.targets.push(
    target(`Conversation adds ≤ ${fmt.kb(TARGETS.conversationAdds)}`, conversation.gzip - ours.gzip <= TARGETS.conversationAdds, fmt.kb(conversation.gzip - ours.gzip)),
  );
  if (idb) results.targets.push(target(`edgechat/idb ≤ ${fmt.kb(TARGETS.idb)} including idb (initial load)`, idb.gzip <= TARGETS.idb, `${fmt.kb(idb.gzip)}${idb.lazy ? ` (+${fmt.kb(idb.lazy.gzip)} lazy)` : ""}`));
  else results.targets.push(target(`edgechat/idb ≤ ${fmt.kb(TARGETS.idb)}`, null, "not built"));
  return results;
}

function strip(r) {
  const { modules, ...rest } = r;
  return { ...rest, topModules: modules.slice(0, 12) };
}
