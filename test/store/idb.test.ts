// The ConversationStore contract against the IndexedDB store, on fake-indexeddb: a fresh database per store.
// IDB-specific behaviour (migrations, images, faults, tabs, paging) is in ./idb/; real Chromium in ./chromium/.
import "fake-indexeddb/auto";
import { it } from "vitest";
import { ValidationError } from "../../src/errors/validation.ts";
import { ConversationNotFoundError, StorageError } from "../../src/store/errors.ts";
import type { ConversationStore } from "../../src/store/types.ts";
import { all, dbName, makeStore } from "./idb/helpers.ts";
import { storeContract } from "./contract.ts";

const names = new WeakMap<ConversationStore, string>();

storeContract({
  define: it,
  makeStore: () => {
    const name = dbName("contract");
    const store = makeStore({ name });
    names.set(store, name);
    return store;
  },
  errors: { ValidationError, StorageError, ConversationNotFoundError },
  sibling: (store) => makeStore({ name: names.get(store)! }),
  async footprint(store) {
    const { images } = await all(names.get(store)!);
    return { images: images.length, chunks: images.filter((i) => i.blob instanceof Blob).length };
  },
});
