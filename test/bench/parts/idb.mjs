// Part 5 — the IndexedDB store: append 10,000 messages, open the newest page, list 1,000 conversations — on
// fake-indexeddb in Node and on real IndexedDB in Chromium (playwright-core), with the memory store as a reference.
import "fake-indexeddb/auto";
import { join, relative } from "node:path";
import { ROOT, exportTarget, load, loadOptional } from "../lib/edgechat.mjs";
import { fmt, printTable } from "../lib/measure.mjs";
import { inBenchPage, startPageServer } from "../lib/page-server.mjs";
import { runWorkload } from "../idb/workload.mjs";

const MESSAGES = Number(process.env.BENCH_IDB_MESSAGES ?? 10_000);
const CONVERSATIONS = Number(process.env.BENCH_IDB_CONVERSATIONS ?? 1_000);
// Real IndexedDB commits every append to disk (~1–4 ms each here): Chromium times the first 2,000 appends, and
// the open step uses a 10,000-message conversation imported in one transaction. BENCH_CHROMIUM_APPENDS=10000 for all.
const CHROMIUM_APPENDS = Math.min(MESSAGES, Number(process.env.BENCH_CHROMIUM_APPENDS ?? 2_000));
const IDB_FALLBACK = "store/idb/index.js"; // where vite.config.ts's entry will put it, before package.json exports it

export async function run() {
  const { createMemoryStore } = await load(".");
  const idb = await loadOptional("./idb", IDB_FALLBACK);
  console.log(
    `\nStores: append ${fmt.n(MESSAGES)} messages one by one (awaited; ${fmt.n(CHROMIUM_APPENDS)} in Chromium), open a ${fmt.n(MESSAGES)}-message conversation (get + newest page of 50) ×20, ` +
      `then with ${fmt.n(CONVERSATIONS)} conversations list the newest page (50) and page through all (100 per page) ×10.` +
      `\nedgechat/idb: ${idb.module ? idb.file.slice(ROOT.length + 1) : idb.reason}`,
  );

  const results = [];
  const node = async (name, makeStore) => {
    const r = await runWorkload(makeStore(), { appends: MESSAGES, messages: MESSAGES, conversations: CONVERSATIONS });
    results.push({ environment: "Node", store: name, ...r });
  };
  await node("memory store (reference)", () => createMemoryStore());
  if (idb.module) await node("edgechat/idb on fake-indexeddb", () => idb.module.createIndexedDBStore({ name: `bench-${Date.now()}` }));
  else results.push({ environment: "Node", store: "edgechat/idb on fake-indexeddb", notBuilt: idb.reason });

  const chromium = await inChromium(idb);
  results.push(...chromium);

  const failed = results.filter((r) => r.notBuilt || r.error);
  printTable(
    "Stores — times in ms, median (min–max)",
    ["environment", "store", "appends", "append: total", "append: per message", "open newest page", "list: newest 50", `list: all ${fmt.n(CONVERSATIONS)}`],
    results.map((r) =>
      r.notBuilt || r.error
        ? { environment: r.environment, store: r.store, "append: total": r.notBuilt ? "not built" : "error (below)" }
        : {
            environment: r.environment,
            store: r.store,
            appends: fmt.n(r.appends),
            "append: total": `${fmt.n(r.appendTotal, 0)} ms`,
            "append: per message": fmt.range(r.append, (v) => v),
            "open newest page": fmt.range(r.open, (v) => v),
            "list: newest 50": fmt.range(r.listFirst, (v) => v),
            [`list: all ${fmt.n(CONVERSATIONS)}`]: fmt.range(r.listAll, (v) => v),
          },
    ),
    [
      "append: one awaited appendMessage per message (a readwrite transaction each for IndexedDB); per message = min–max over the appends.",
      "open: when fewer messages were appended than the conversation needs, it was imported (store.import: one transaction) — import time below.",
      "Chromium: a fresh on-disk profile; the page is cross-origin isolated (COOP/COEP), so performance.now() has ~5 µs resolution.",
      ...failed.map((r) => `${r.environment}, ${r.store}: ${r.notBuilt ?? r.error}`),
    ],
  );
  const targets = [];
  const real = results.find((r) => r.environment === "Chromium" && r.store.startsWith("edgechat/idb") && !r.notBuilt && !r.error);
  if (real) {
    console.log("\nStore figures (no targets set): Chromium, real IndexedDB —");
    console.log(
      `  ${fmt.sig((real.appendTotal * 1000) / real.appends)} µs per append (mean of ${fmt.n(real.appends)}), ` +
        (real.importMs === undefined ? "" : `${fmt.n(real.importMs, 0)} ms to import ${fmt.n(real.messages)} messages, `) +
        `${fmt.sig(real.open.median)} ms to open, ${fmt.sig(real.listFirst.median)} ms to list the newest 50`,
    );
  }
  return { setup: { messages: MESSAGES, conversations: CONVERSATIONS, idb: idb.module ? idb.file.slice(ROOT.length + 1) : idb.reason }, rows: results, targets };
}


async function inChromium(idb) {
  const rows = (why) => [
    { environment: "Chromium", store: "memory store (reference)", error: why },
    { environment: "Chromium", store: "edgechat/idb, real IndexedDB", ...(idb.module ? { error: why } : { notBuilt: idb.reason }) },
  ];
  // Everything the page needs, from one origin: the built package, idb and valibot, the workload modules.
  const distRoot = join(exportTarget(".") ?? join(ROOT, "dist/index.js"), "..");
  const { server, origin } = await startPageServer({
    title: "edgechat store bench",
    page: "/bench/page.mjs",
    mounts: [
      ["/edgechat/", distRoot],
      ["/bench/", join(ROOT, "test/bench/idb")],
    ],
  });
  try {
    const idbModule = idb.module ? `/edgechat/${relative(distRoot, idb.file).split("\\").join("/")}` : undefined;
    const params = { idbModule, appends: CHROMIUM_APPENDS, messages: MESSAGES, conversations: CONVERSATIONS };
    const r = await inBenchPage(origin, (page) => page.evaluate((params) => window.benchStores(params), params));
    const out = [{ environment: "Chromium", store: "memory store (reference)", ...r.memory }];
    if (r.idb) out.push({ environment: "Chromium", store: `edgechat/idb, real IndexedDB${r.idbNative ? "" : " (NOT native!)"}`, ...r.idb });
    else out.push({ environment: "Chromium", store: "edgechat/idb, real IndexedDB", notBuilt: idb.reason });
    return out;
  } catch (error) {
    return rows(String(error?.message ?? error).split("\n")[0]);
  } finally {
    server.close();
  }
}
