// The message list of the open conversation. It follows `conversation.onChange` and reconciles the DOM with
// `conversation.messages` once per animation frame, so a fast stream costs one render per frame, not per token.
import type { Conversation, Message, UserMessage } from "edgechat";
import { clear, h } from "./dom.ts";
import { MessageView } from "./message-view.ts";

export interface ChatActions {
  regenerate(): void;
  continue(): void;
  edit(message: UserMessage, text: string): void;
  loadOlder(): void;
}

export interface ChatView {
  /** Show a conversation, or the empty state (undefined). */
  show(conversation: Conversation | undefined): void;
  /** Re-check busy/last-message flags (a reply started or ended). */
  refresh(): void;
}

/** Pixels from the bottom within which the view keeps following a streaming reply. */
const STICKY = 80;

export function createChatView(scroller: HTMLElement, emptyState: HTMLElement, actions: ChatActions): ChatView {
  const list = h("div", { class: "messages-inner" });
  const older = h("button", { class: "load-older button", text: "Load earlier messages", attrs: { type: "button" }, on: { click: () => actions.loadOlder() } });
  const pending = h("div", { class: "message assistant pending", attrs: { "aria-label": "Waiting for the reply" } }, h("div", { class: "avatar" }), h("span", { class: "typing" }, h("i"), h("i"), h("i")));
  scroller.append(emptyState, list);

  const views = new Map<string, MessageView>();
  let conversation: Conversation | undefined;
  let unsubscribe: (() => void) | undefined;
  let frame = 0;
  let stick = true;

  scroller.addEventListener("scroll", () => {
    stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICKY;
  });

  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      sync();
    });
  };

  const sync = () => {
    const messages: readonly Message[] = conversation?.messages ?? [];
    const busy = conversation?.busy ?? false;
    emptyState.hidden = messages.length > 0 || busy;
    const wanted = new Set(messages.map((m) => m.id));
    for (const [id, view] of views) {
      if (wanted.has(id)) continue;
      view.dispose();
      view.el.remove();
      views.delete(id);
    }
    let lastUser = -1;
    let lastAssistant = -1;
    messages.forEach((m, i) => (m.role === "user" ? (lastUser = i) : (lastAssistant = i)));
    // Walk the list in order, moving or creating elements only where they differ.
    let cursor: ChildNode | null = list.firstChild === older ? older.nextSibling : list.firstChild;
    messages.forEach((m, i) => {
      let view = views.get(m.id);
      if (!view) {
        view = new MessageView(m, actions);
        views.set(m.id, view);
      }
      const last = i === messages.length - 1;
      view.update(m, { editable: i === lastUser && !busy, lastReply: i === lastAssistant && last, unanswered: last && m.role === "user" && !busy, busy });
      if (view.el !== cursor) list.insertBefore(view.el, cursor);
      else cursor = cursor.nextSibling;
    });
    // Before the first chunk of a reply arrives, a typing indicator stands in for it.
    const waiting = busy && messages[messages.length - 1]?.role === "user";
    if (waiting) list.append(pending);
    else pending.remove();
    if (conversation?.hasOlder) list.prepend(older);
    else older.remove();
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  };

  return {
    show(next) {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const view of views.values()) view.dispose();
      views.clear();
      clear(list);
      conversation = next;
      stick = true;
      if (next) {
        unsubscribe = next.onChange((change) => {
          // Loading older messages must not yank the view to the bottom.
          if (change.type === "prepend") {
            const before = scroller.scrollHeight - scroller.scrollTop;
            sync();
            scroller.scrollTop = scroller.scrollHeight - before;
            return;
          }
          schedule();
        });
      }
      sync();
    },
    refresh: schedule,
  };
}
