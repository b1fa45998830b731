// The one place the page picks its ConversationStore: IndexedDB (edgechat/idb), so conversations survive a
// reload and other tabs see the changes.
import { createIndexedDBStore, type IndexedDBStore, requestPersistentStorage } from "edgechat/idb";

export const DATABASE = "edgechat-demo";

export function openStore(onBlocked: () => void): IndexedDBStore {
  // Ask the browser not to evict the conversations under storage pressure; a refusal changes nothing here.
  void requestPersistentStorage();
  return createIndexedDBStore({ name: DATABASE, onBlocked });
}
