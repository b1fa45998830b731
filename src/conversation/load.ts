import type { ConversationStore } from "../store/types.js";
import { messageCost } from "./cost.js";
import type { Message } from "../messages/types.js";

/** Messages per page when a stored conversation is read. */
export const PAGE_SIZE = 50;

/**
 * The newest messages of a stored conversation, a page at a time, until they hold at least `window` tokens of
 * text: enough for any request, without reading a long history. `before` is the cursor of what is left.
 */
export async function loadNewest(
  store: ConversationStore,
  id: string,
  window: number,
  countTokens: (text: string) => number,
): Promise<{ messages: Message[]; before: number | undefined }> {
  let tokens = 0;
  let before: number | undefined;
  const messages: Message[] = [];
  do {
    const page = await store.loadMessages(id, { limit: PAGE_SIZE, ...(before !== undefined && { before }) });
    messages.unshift(...page.messages);
    for (const m of page.messages) tokens += messageCost(m, countTokens).text;
    before = page.before;
  } while (before !== undefined && tokens < window);
  return { messages, before };
}
