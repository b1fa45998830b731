// Where IndexedDB does not exist (Node without fake-indexeddb, Deno, Workers): importing is fine, creating says what to use.
import { expect, it } from "vitest";
import { StorageError } from "../../../src/store/errors.ts";

it("importing edgechat/idb without IndexedDB does not throw; createIndexedDBStore throws a StorageError naming the alternatives", async () => {
  expect(typeof (globalThis as { indexedDB?: unknown }).indexedDB).toBe("undefined");
  const idb = await import("../../../src/store/idb/index.ts");
  expect(() => idb.createIndexedDBStore()).toThrow(StorageError);
  expect(() => idb.createIndexedDBStore()).toThrow(/IndexedDB is not available.*createMemoryStore\(\)/);
});

it("requestPersistentStorage resolves false where navigator.storage is missing", async () => {
  const { requestPersistentStorage } = await import("../../../src/store/idb/index.ts");
  expect(await requestPersistentStorage()).toBe(false);
});
