// In Chromium: the same workload against the built edgechat/idb (real IndexedDB) and the memory store.
import { runWorkload } from "./workload.mjs";

window.benchStores = async ({ idbModule, appends, messages, conversations }) => {
  const results = {};
  const { createMemoryStore } = await import("/edgechat/index.js");
  results.memory = await runWorkload(createMemoryStore(), { appends, messages, conversations });
  if (idbModule) {
    const { createIndexedDBStore } = await import(idbModule);
    const store = createIndexedDBStore({ name: `bench-${Date.now()}` });
    results.idb = await runWorkload(store, { appends, messages, conversations });
    results.idbNative = String(indexedDB.open).includes("[native code]");
    store.close();
  }
  return results;
};
window.benchReady = true;
