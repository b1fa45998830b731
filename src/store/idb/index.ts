/**
 * edgechat/idb: conversations in IndexedDB, for browsers, built on `idb`: the store (with what it adds to the
 * interface: `onChange` for other tabs, `isConversationLocked`, corruption reports), the error of an upgrade another
 * tab blocks, and the persistent-storage request. Importing it touches no global;
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
 *
 * Deliberately not exported: the database schema, its migrations and record formats, the lock's name (ask
 * `isConversationLocked`), and `idb` itself. The store interface and its change types (`StoreChange`,
 * `StoreChangeKind`), `Conversation` and the errors come from edgechat.
 */
export {
  createIndexedDBStore,
  type CorruptRecord,
  type IndexedDBStore,
  type IndexedDBStoreOptions,
} from "./store.js";
export { DatabaseBlockedError } from "./errors.js";
export { requestPersistentStorage } from "./persist.js";
