// Size budgets, in gzip bytes, for what a user's app bundles: deterministic, so they fail CI instead of drifting.
// The library is built from src/ as `npm run build` builds it (into a temporary directory, dist/ is not touched),
// then each snippet is bundled against it as an app would be (test/size/bundle.mjs). The same figures, and the
// competitors', are in the benchmark report (npm run bench size). Speed is never asserted here.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGETS, browserBuild, type BundleResult, buildLibrary, bundle, entryFile, ROOT, SNIPPETS } from "./bundle.mjs";

const kb = (bytes: number) => `${(bytes / 1000).toFixed(2)} KB`;

/** For a failure message: the largest source files in the same snippet bundled from src/ (one module per file). */
async function largest(code: string): Promise<string> {
  const r = await bundle(code, { from: "src" });
  return `largest parts (~minified bytes): ${r.modules
    .slice(0, 8)
    .map((m) => `${m.id} ${m.minified}`)
    .join(", ")}`;
}

describe("bundle size budgets (gzip)", () => {
  const outDir = join(ROOT, ".ci-out", `size-budget-${process.pid}`);
  let library: string;
  let streamOne: BundleResult;

  beforeAll(async () => {
    library = await buildLibrary(outDir);
    streamOne = await bundle(SNIPPETS.streamOne.edgechat, { from: library });
  }, 60_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it(`streaming one completion (createClient + textStream, validation included) ≤ ${kb(BUDGETS.streamOne)}`, async () => {
    const why = streamOne.gzip > BUDGETS.streamOne ? await largest(SNIPPETS.streamOne.edgechat) : "";
    expect(streamOne.gzip, `${kb(streamOne.gzip)}; ${why}`).toBeLessThanOrEqual(BUDGETS.streamOne);
  }, 30_000);

  it(`Conversation adds ≤ ${kb(BUDGETS.conversationAdds)} to that`, async () => {
    const conversation = await bundle(SNIPPETS.conversation, { from: library });
    const adds = conversation.gzip - streamOne.gzip;
    const why = adds > BUDGETS.conversationAdds ? await largest(SNIPPETS.conversation) : "";
    expect(adds, `${kb(adds)} (${kb(conversation.gzip)} in all); ${why}`).toBeLessThanOrEqual(BUDGETS.conversationAdds);
  }, 30_000);

  it(`tools (edgechat/tools, one valibot tool) add ≤ ${kb(BUDGETS.toolsAdds)} to a Conversation`, async () => {
    const [conversation, tools] = await Promise.all([bundle(SNIPPETS.conversation, { from: library }), bundle(SNIPPETS.tools.edgechat, { from: library })]);
    const adds = tools.gzip - conversation.gzip;
    const why = adds > BUDGETS.toolsAdds ? await largest(SNIPPETS.tools.edgechat) : "";
    expect(adds, `${kb(adds)}; ${why}`).toBeLessThanOrEqual(BUDGETS.toolsAdds);
  }, 30_000);

  it(`streaming a typed object (edgechat/structured) adds ≤ ${kb(BUDGETS.objectAdds)} to streaming one completion`, async () => {
    const object = await bundle(SNIPPETS.object.edgechat, { from: library });
    const adds = object.gzip - streamOne.gzip;
    const why = adds > BUDGETS.objectAdds ? await largest(SNIPPETS.object.edgechat) : "";
    expect(adds, `${kb(adds)}; ${why}`).toBeLessThanOrEqual(BUDGETS.objectAdds);
  }, 30_000);

  it(`edgechat/idb, idb included, ≤ ${kb(BUDGETS.idb)} (initial load)`, async () => {
    const file = entryFile("./idb", library);
    expect(file !== undefined && existsSync(file), "package.json exports ./idb and it is built").toBe(true);
    const idb = await bundle(SNIPPETS.idb, { from: library });
    const lazy = idb.lazy ? ` (+${kb(idb.lazy.gzip)} behind a dynamic import)` : "";
    const why = idb.gzip > BUDGETS.idb ? await largest(SNIPPETS.idb) : "";
    expect(idb.gzip, `${kb(idb.gzip)}${lazy}; ${why}`).toBeLessThanOrEqual(BUDGETS.idb);
  }, 30_000);

  it(`the browser build (edgechat and edgechat/idb in one file, dependencies inlined) ≤ ${kb(BUDGETS.browser)}, and the README says how big it is`, () => {
    const built = browserBuild(library);
    expect(built.files, "one file: a page loads it with one request, and it imports nothing").toEqual(["edgechat.js"]);
    expect(built.gzip, `${kb(built.gzip)} (${kb(built.bytes)} minified)`).toBeLessThanOrEqual(BUDGETS.browser);
    // The first size in the README's "## Use" is this file's, next to its <script type="module"> snippet.
    const use = readFileSync(join(ROOT, "README.md"), "utf8").split("\n## Use\n")[1] ?? "";
    const stated = /([\d.]+) KB gzip/.exec(use)?.[1];
    expect(Math.abs(Number(stated) * 1000 - built.gzip), `the README says ${stated} KB gzip; the file is ${kb(built.gzip)}`).toBeLessThanOrEqual(500);
  });
});
