/**
 * edgechat/idb: conversations in IndexedDB, for browsers, built on `idb`. Importing it touches no global;
 * where IndexedDB is missing (Node, Deno, Workers) only calling `createIndexedDBStore` throws, with a
 * StorageError that says what to use instead.
 *
 *   import { Conversation } from "edgechat";
 *   import { createIndexedDBStore, requestPersistentStorage } from "edgechat/idb";
 *
 *   const store = createIndexedDBStore({ onBlocked: () => showBanner("Close the other tabs of this app") });
 *   void requestPersistentStorage();
 *   store.onChange(({ id, kind }) => refreshSidebar(id, kind)); // changes made in OTHER tabs
 *   const chat = await Conversation.open(store, id, { client });
 *   await chat.send("Hi").done; // streams under the conversation's Web Lock: one tab at a time
 */
export {
  createIndexedDBStore,
  type CorruptRecord,
  type IndexedDBStore,
  type IndexedDBStoreOptions,
  type StoreChange,
  type StoreChangeKind,
} from "./store.js";
export { DatabaseBlockedError } from "./errors.js";
export { requestPersistentStorage } from "./persist.js";
