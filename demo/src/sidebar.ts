// The conversation list: newest first, with rename (inline) and delete (click twice: no confirm() dialog).
import type { ConversationMeta } from "edgechat";
import { clear, h, icon, iconButton } from "./dom.ts";
import { formatCost, plural, relativeTime } from "./format.ts";

export interface SidebarActions {
  onNew(): void;
  onSelect(id: string): void;
  onRename(id: string, title: string): void;
  onDelete(id: string): void;
}

export interface Sidebar {
  render(conversations: readonly ConversationMeta[], activeId: string | undefined): void;
  /** Start renaming a conversation (from elsewhere, e.g. the header). */
  rename(id: string): void;
}

const UNTITLED = "New conversation";

export function createSidebar(root: HTMLElement, actions: SidebarActions): Sidebar {
  const list = h("ul", { class: "conversation-list", attrs: { "aria-label": "Conversations" } });
  const empty = h("p", { class: "conversation-empty", text: "No conversations yet." });
  root.append(
    h("button", { class: "new-chat", attrs: { type: "button" }, on: { click: () => actions.onNew() } }, icon("plus"), h("span", { text: "New chat" })),
    h("nav", { class: "conversation-nav" }, list, empty),
  );

  let items: readonly ConversationMeta[] = [];
  let active: string | undefined;
  let renaming: string | undefined;
  let confirming: string | undefined;
  let confirmTimer: ReturnType<typeof setTimeout> | undefined;

  const draw = () => {
    clear(list);
    empty.hidden = items.length > 0;
    for (const meta of items) list.append(item(meta));
  };

  const item = (meta: ConversationMeta): HTMLLIElement => {
    const li = h("li", { class: `conversation${meta.id === active ? " active" : ""}`, attrs: { "data-id": meta.id } });
    if (renaming === meta.id) {
      const input = h("input", { class: "rename-input", attrs: { type: "text", "aria-label": "Conversation title", maxlength: "120" } });
      input.value = meta.title || "";
      let done = false;
      const finish = (save: boolean) => {
        if (done) return;
        done = true;
        renaming = undefined;
        const title = input.value.replace(/\s+/g, " ").trim();
        if (save && title && title !== meta.title) actions.onRename(meta.id, title);
        draw();
      };
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") finish(true);
        else if (event.key === "Escape") finish(false);
      });
      input.addEventListener("blur", () => finish(true));
      li.append(input);
      queueMicrotask(() => {
        input.focus();
        input.select();
      });
      return li;
    }
    const open = h(
      "button",
      { class: "conversation-open", attrs: { type: "button", "aria-current": meta.id === active ? "page" : undefined }, on: { click: () => actions.onSelect(meta.id) } },
      h("span", { class: "conversation-title", text: meta.title || UNTITLED }),
      h("span", {
        class: "conversation-meta",
        text: `${relativeTime(meta.updatedAt)} · ${plural(meta.messageCount, "message")}`,
        title: meta.usage.cost > 0 ? `${formatCost(meta.usage.cost)} spent` : "",
      }),
    );
    const rename = iconButton("pencil", "Rename", () => {
      renaming = meta.id;
      draw();
    });
    const isConfirming = confirming === meta.id;
    const remove = iconButton(
      "trash",
      isConfirming ? "Click again to delete" : "Delete",
      () => {
        if (confirming === meta.id) {
          confirming = undefined;
          actions.onDelete(meta.id);
          return;
        }
        confirming = meta.id;
        clearTimeout(confirmTimer);
        confirmTimer = setTimeout(() => {
          confirming = undefined;
          draw();
        }, 4000);
        draw();
      },
      { class: isConfirming ? "danger confirming" : "danger", showLabel: isConfirming },
    );
    li.append(open, h("div", { class: "conversation-actions" }, rename, remove));
    return li;
  };

  return {
    render(conversations, activeId) {
      items = conversations;
      active = activeId;
      if (renaming && !items.some((m) => m.id === renaming)) renaming = undefined;
      // Don't redraw under the user's cursor while they type a title.
      if (renaming && list.contains(document.activeElement)) return;
      draw();
    },
    rename(id) {
      renaming = id;
      draw();
    },
  };
}
