// In Chromium: the turn workload on both builds, each with no store, the memory store and edgechat/idb (real
// IndexedDB, Web Locks), interleaved send by send. `builds`: name → base URL of a dist/ layout.
import { runTurns } from "./workload.mjs";

window.benchTurns = async ({ builds, origin, history, sends, gapMs, expectedText }) => {
  const contenders = [];
  const stamp = Date.now();
  for (const [store, label] of [
    ["none", "no store"],
    ["memory", "memory store"],
    ["idb", "IndexedDB"],
  ]) {
    for (const [build, base] of Object.entries(builds)) {
      const main = await import(`${base}index.js`);
      const idb = store === "idb" ? await import(`${base}store/idb/index.js`) : undefined;
      const makeStore =
        store === "none" ? undefined : store === "memory" ? () => main.createMemoryStore() : () => idb.createIndexedDBStore({ name: `turn-bench-${build}-${stamp}` });
      contenders.push({ name: `${label}|${build}`, build: main, ...(makeStore && { makeStore }) });
    }
  }
  const { results, stores } = await runTurns(contenders, { origin, history, sends, gapMs, expectedText });
  for (const store of stores) store.close?.();
  return {
    results,
    idbNative: String(indexedDB.open).includes("[native code]"),
    webLocks: typeof navigator.locks?.request === "function",
    isolated: globalThis.crossOriginIsolated === true,
  };
};
window.benchReady = true;
