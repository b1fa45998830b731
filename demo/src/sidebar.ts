// The conversation list: newest first, each a link to `#id` (the URL's hash opens it: links, Back and Forward), with
// rename (inline) and delete (press twice: no confirm() dialog). Redrawing keeps the keyboard focus where it was; the
// "press again" state stays while its button has the focus or the pointer, and a deleted item hands the focus on.
import type { ConversationMeta } from "edgechat";
import { clear, h, icon, iconButton } from "./dom.ts";
import { formatCost, plural, relativeTime } from "./format.ts";
import { plainText } from "./markdown/plain.ts";

export interface SidebarActions {
  onNew(): void;
  /** A conversation's link was followed (the hash change opens it); `byKeyboard`: by Enter rather than a pointer. */
  onSelect(id: string, byKeyboard: boolean): void;
  onRename(id: string, title: string): void;
  onDelete(id: string): void;
}

export interface Sidebar {
  render(conversations: readonly ConversationMeta[], activeId: string | undefined): void;
  /** Start renaming a conversation (from elsewhere, e.g. the header). */
  rename(id: string): void;
}

const UNTITLED = "New conversation";
export const CONFIRM_DELETE = "Confirm delete";
/** How long "Confirm delete" waits for the second press once neither the focus nor the pointer is on it. */
const CONFIRM_MS = 4000;

type Control = "open" | "rename" | "delete";

export function createSidebar(root: HTMLElement, actions: SidebarActions): Sidebar {
  const list = h("ul", { class: "conversation-list", attrs: { "aria-label": "Conversations" } });
  const empty = h("p", { class: "conversation-empty", text: "No conversations yet." });
  const newChat = h("button", { class: "new-chat", attrs: { type: "button" }, on: { click: () => actions.onNew() } }, icon("plus"), h("span", { text: "New chat" }));
  root.append(newChat, h("nav", { class: "conversation-nav", attrs: { "aria-label": "Conversation list" } }, list, empty));

  let items: readonly ConversationMeta[] = [];
  let active: string | undefined;
  let renaming: string | undefined;
  let confirming: string | undefined;
  let confirmTimer: ReturnType<typeof setTimeout> | undefined;
  /** A conversation deleted from here, and where it was: its neighbour takes the focus once it is gone. */
  let deleted: { id: string; index: number } | undefined;

  const controlOf = (id: string, control: Control) => list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(id)}"] [data-control="${control}"]`);

  const draw = () => {
    // Which control has the focus, to give it back to the same control of the same conversation after the redraw.
    const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement : undefined;
    const where = focused && { id: focused.closest("li")?.dataset.id, control: focused.dataset.control as Control | undefined };
    clear(list);
    empty.hidden = items.length > 0;
    for (const meta of items) list.append(item(meta));
    if (where?.id && where.control) controlOf(where.id, where.control)?.focus();
    if (deleted && !items.some((m) => m.id === deleted!.id)) {
      const next = items[Math.min(deleted.index, items.length - 1)];
      // Only if the focus went with the deleted item: not if the user has moved on meanwhile.
      if (!list.contains(document.activeElement) && (document.activeElement === document.body || document.activeElement === null)) {
        (next ? controlOf(next.id, "open") : newChat)?.focus();
      }
      deleted = undefined;
    }
  };

  const stopConfirming = () => {
    clearTimeout(confirmTimer);
    if (confirming === undefined) return;
    const id = confirming;
    confirming = undefined;
    const button = controlOf(id, "delete");
    if (button) setDeleteButton(button as HTMLButtonElement, false);
  };

  /** Expire the "Confirm delete" state, unless its button is still being looked at (focus or pointer). */
  const armConfirmTimer = () => {
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(() => {
      const button = confirming === undefined ? null : controlOf(confirming, "delete");
      if (button && (document.activeElement === button || button.matches(":hover"))) armConfirmTimer();
      else stopConfirming();
    }, CONFIRM_MS);
  };

  const item = (meta: ConversationMeta): HTMLLIElement => {
    const li = h("li", { class: `conversation${meta.id === active ? " active" : ""}`, attrs: { "data-id": meta.id } });
    if (renaming === meta.id) {
      const input = h("input", { class: "rename-input", attrs: { type: "text", "aria-label": "Conversation title", maxlength: "120" } });
      input.value = meta.title || "";
      let done = false;
      /** `refocus`: ended from the keyboard, so the focus goes back to the conversation's Rename button. */
      const finish = (save: boolean, refocus: boolean) => {
        if (done) return;
        done = true;
        renaming = undefined;
        const title = input.value.replace(/\s+/g, " ").trim();
        if (save && title && title !== meta.title) actions.onRename(meta.id, title);
        draw();
        if (refocus) controlOf(meta.id, "rename")?.focus();
      };
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault(); // else the Enter would also press the Rename button that takes the focus
          finish(true, true);
        }
        else if (event.key === "Escape") {
          event.preventDefault(); // only the rename: not the drawer, not the reply
          finish(false, true);
        }
      });
      input.addEventListener("blur", () => finish(true, false));
      li.append(input);
      queueMicrotask(() => {
        input.focus();
        input.select();
      });
      return li;
    }
    const title = plainText(meta.title) || UNTITLED;
    const open = h(
      "a",
      {
        class: "conversation-open",
        attrs: { href: `#${encodeURIComponent(meta.id)}`, "aria-current": meta.id === active ? "page" : undefined, "data-control": "open" },
        on: {
          click: (event) => {
            if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // a new tab or window
            actions.onSelect(meta.id, event.detail === 0);
          },
        },
      },
      h("span", { class: "conversation-title", text: title }),
      h("span", {
        class: "conversation-meta",
        text: `${relativeTime(meta.updatedAt)} · ${plural(meta.messageCount, "message")}`,
        title: meta.usage.cost > 0 ? `${formatCost(meta.usage.cost)} spent` : "",
      }),
    );
    const rename = iconButton("pencil", "Rename", () => {
      stopConfirming();
      renaming = meta.id;
      draw();
    });
    rename.dataset.control = "rename";
    const remove = iconButton("trash", "Delete", () => {
      if (confirming === meta.id) {
        stopConfirming();
        deleted = { id: meta.id, index: items.findIndex((m) => m.id === meta.id) };
        actions.onDelete(meta.id);
        return;
      }
      stopConfirming();
      confirming = meta.id;
      setDeleteButton(remove, true);
      armConfirmTimer();
    });
    remove.dataset.control = "delete";
    remove.classList.add("danger");
    remove.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && confirming === meta.id) {
        event.preventDefault();
        stopConfirming();
      }
    });
    remove.addEventListener("blur", () => {
      if (remove.isConnected && confirming === meta.id) armConfirmTimer();
    });
    if (confirming === meta.id) setDeleteButton(remove, true);
    li.append(open, h("div", { class: "conversation-actions" }, rename, remove));
    return li;
  };

  /** The same button, its state changed in place (so the keyboard focus stays on it). */
  const setDeleteButton = (button: HTMLButtonElement, confirm: boolean) => {
    const label = confirm ? CONFIRM_DELETE : "Delete";
    button.setAttribute("aria-label", label);
    button.title = confirm ? "Press again to delete this conversation (Esc cancels)" : "Delete";
    button.classList.toggle("confirming", confirm);
    let shown = button.querySelector("span");
    if (confirm && !shown) button.append((shown = h("span", { text: label })));
    else if (!confirm) shown?.remove();
  };

  return {
    render(conversations, activeId) {
      items = conversations;
      active = activeId;
      if (renaming && !items.some((m) => m.id === renaming)) renaming = undefined;
      if (confirming && !items.some((m) => m.id === confirming)) stopConfirming();
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
