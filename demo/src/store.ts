// The one place the page picks its ConversationStore: IndexedDB (edgechat/idb), so conversations survive a
// reload and other tabs see the changes.
import { createIndexedDBStore, type IndexedDBStore, requestPersistentStorage } from "edgechat/idb";

export const DATABASE = "edgechat-demo";

export function openStore(onBlocked: () => void): IndexedDBStore {
  // Ask the browser not to evict the conversations under storage pressure; a refusal changes nothing here.
  void requestPersistentStorage();
  return createIndexedDBStore({ name: DATABASE, onBlocked });
}

/**
 * Whether a tab holds the conversation's writer lock now: its turn is running (from reading the history to storing
 * the reply). edgechat/idb names its Web Locks `edgechat:<database>:<conversation id>`; without Web Locks, false.
 */
export async function turnRunning(conversationId: string): Promise<boolean> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return false;
  const { held = [] } = await locks.query();
  return held.some((lock) => lock.name === `edgechat:${DATABASE}:${conversationId}`);
}
