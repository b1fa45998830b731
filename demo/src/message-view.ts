// One message on screen. Content is re-rendered only when the message object's content changes (streaming),
// the footer (versions, status, usage, actions) whenever the conversation's shape or busy state changes.
import type { AssistantMessage, ImageContent, Message, MessagePart, UserMessage } from "edgechat";
import { clear, h, icon, iconButton } from "./dom.ts";
import { describeStoredError, type ErrorText } from "./errors-text.ts";
import { formatCost, formatInt } from "./format.ts";
import { renderMarkdown } from "./markdown/index.ts";
import { ToolCallsView } from "./tool-calls.ts";

/** Which version of a message this is (from 0), of how many (`Conversation.versions`). */
export interface Version {
  index: number;
  count: number;
}

export const ONLY_VERSION: Version = { index: 0, count: 1 };

export interface MessageFlags {
  /**
   * Nothing is on its way — no reply here or in another tab, no other tab's turn about to answer: edit, regenerate
   * and version switches are offered (a switch or a new version would wait for that turn, or be refused).
   */
  idle: boolean;
  /** The last message of the path: a user message here has no reply yet. */
  last: boolean;
  /** The last message, an interrupted reply that `continue()` can carry on (its text, or its tool step's turn). */
  continuable: boolean;
  /** The newest message of its role: its actions are labelled; older messages' are icons, to keep the list quiet. */
  newest: boolean;
  /** A reply that another tab is writing: this page follows it, but only that tab can stop it. */
  elsewhere: boolean;
  version: Version;
  /** A reply to the first question of the conversation: no older turns could have been left out of its request. */
  firstTurn: boolean;
}

export type Step = -1 | 1;

export interface MessageActions {
  /** A new version of this reply; without one, a reply to the unanswered user message at the end. */
  regenerate(replyId?: string): void;
  continue(): void;
  edit(message: UserMessage, text: string): void;
  /** Show the previous (-1) or next (1) version of this message. */
  switchVersion(message: Message, step: Step): void;
  /** Answer a tool call that waits for the user: run it (`allowed`), or refuse it. */
  approve(callId: string, allowed: boolean): void;
}

const sameFlags = (a: MessageFlags, b: MessageFlags) =>
  a.idle === b.idle &&
  a.last === b.last &&
  a.continuable === b.continuable &&
  a.newest === b.newest &&
  a.elsewhere === b.elsewhere &&
  a.firstTurn === b.firstTurn &&
  a.version.index === b.version.index &&
  a.version.count === b.version.count;

export class MessageView {
  readonly el: HTMLElement;
  #message: Message;
  #flags: MessageFlags | undefined;
  #body: HTMLElement;
  #footer: HTMLElement;
  /** A reply's tool calls, above its text. */
  #calls: ToolCallsView | undefined;
  #urls: string[] = [];
  #editing = false;
  readonly #actions: MessageActions;

  constructor(message: Message, actions: MessageActions) {
    this.#message = message;
    this.#actions = actions;
    this.#body = h("div", { class: message.role === "assistant" ? "message-body markdown" : "message-body" });
    this.#footer = h("div", { class: "message-footer" });
    const avatar = h("div", { class: "avatar", attrs: { "aria-hidden": "true" } }, message.role === "assistant" ? icon("sparkle") : "You");
    if (message.role === "assistant") this.#calls = new ToolCallsView((callId, allowed) => this.#actions.approve(callId, allowed));
    this.el = h(
      "article",
      { class: `message ${message.role}`, attrs: { "data-id": message.id, "data-role": message.role } },
      avatar,
      h("div", { class: "message-main" }, this.#calls?.el, this.#body, this.#footer),
    );
    this.#renderBody();
  }

  get message(): Message {
    return this.#message;
  }

  update(message: Message, flags: MessageFlags): void {
    const streaming = (m: Message) => m.role === "assistant" && m.status === "streaming";
    // The caret (or typing dots) goes when the reply ends, even if its last text was on screen already.
    const calls = (m: Message) => (m.role === "assistant" ? m.toolCalls : undefined);
    const contentChanged =
      message.content !== this.#message.content || streaming(message) !== streaming(this.#message) || !calls(message) !== !calls(this.#message);
    const statusChanged = message !== this.#message;
    this.#message = message;
    if (contentChanged && !this.#editing) this.#renderBody();
    if (statusChanged || !this.#flags || !sameFlags(this.#flags, flags)) {
      this.#flags = flags;
      this.#renderFooter();
      // A call can be answered from the last reply only, while nothing else is on its way.
      this.#calls?.update(calls(message), { answerable: flags.idle && flags.last, last: flags.last });
    }
    const status = message.role === "assistant" ? message.status : "complete";
    this.el.dataset.status = status;
  }

  /**
   * Focus this message's previous (-1) or next (1) version button — the other one at an end. Its view replaced the
   * one whose button was pressed, so keyboard focus stays where the user was instead of falling to the page.
   */
  focusVersion(step: Step): void {
    const [previous, next] = this.#footer.querySelectorAll<HTMLButtonElement>(".versions button");
    const wanted = step < 0 ? previous : next;
    (wanted?.disabled ? (step < 0 ? next : previous) : wanted)?.focus();
  }

  /** The text shown, as a reader would see it (for a screen reader's announcement). */
  text(): string {
    return this.#body.innerText;
  }

  dispose(): void {
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls = [];
  }

  #renderBody(): void {
    clear(this.#body);
    const m = this.#message;
    if (m.role === "assistant") {
      // A step that only calls tools has no text: its calls say what it does.
      const calls = (m.toolCalls?.length ?? 0) > 0;
      this.#body.hidden = calls && m.content === "";
      this.#body.append(renderMarkdown(m.content));
      if (m.status === "streaming") {
        if (m.content === "" && !calls) this.#body.append(typing());
        else caretTarget(this.#body).append(h("span", { class: "caret", attrs: { "aria-hidden": "true" } }));
      } else addCodeCopyButtons(this.#body);
      return;
    }
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls = [];
    const parts: readonly MessagePart[] = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    const images = parts.filter((p): p is ImageContent => p.type === "image");
    if (images.length > 0) this.#body.append(h("div", { class: "message-images" }, ...images.map((image) => this.#image(image))));
    const text = parts.map((p) => (p.type === "text" ? p.text : "")).join("\n").trim();
    if (text) this.#body.append(h("p", { class: "user-text", text }));
  }

  #image(image: ImageContent): HTMLElement {
    const size = image.width !== undefined && image.height !== undefined ? `${image.width} × ${image.height}` : "";
    let src: string;
    if ("data" in image) {
      src = URL.createObjectURL(new Blob([image.data as Uint8Array<ArrayBuffer>], { type: image.mimeType }));
      this.#urls.push(src);
    } else src = image.url;
    // Its size is known before it loads: the space is kept, so nothing below moves when it arrives.
    const dims = image.width !== undefined && image.height !== undefined ? { width: String(image.width), height: String(image.height) } : {};
    return h(
      "figure",
      { class: "message-image" },
      h("img", { attrs: { src, alt: size ? `Attached image, ${size} pixels` : "Attached image", loading: "lazy", referrerpolicy: "no-referrer", ...dims } }),
      size ? h("figcaption", { text: size }) : null,
    );
  }

  #renderFooter(): void {
    clear(this.#footer);
    const m = this.#message;
    const flags = this.#flags!;
    if (m.role === "user" && this.#editing) return;
    const row = h("div", { class: "message-meta" }, this.#versions());
    if (m.role === "user") {
      if (flags.idle && flags.last) row.append(iconButton("refresh", "Get a reply", () => this.#actions.regenerate(), { showLabel: true, class: "primary-soft" }));
      if (flags.idle) row.append(iconButton("pencil", "Edit", () => this.#startEdit(m), { showLabel: flags.newest }));
    } else {
      const notice = statusNotice(m, flags.firstTurn);
      if (notice) this.#footer.append(noticeBox(notice));
      this.#replyMeta(row, m, flags);
    }
    if (row.childNodes.length > 0) this.#footer.append(row);
  }

  #replyMeta(row: HTMLElement, m: AssistantMessage, flags: MessageFlags): void {
    if (m.status === "streaming") row.append(h("span", { class: "badge streaming", text: flags.elsewhere ? "Writing in another tab…" : "Writing…" }));
    if (m.usage) {
      const cost = m.usage.estimated_cost;
      row.append(
        h("span", {
          class: "usage",
          title: `${formatInt(m.usage.prompt_tokens)} prompt + ${formatInt(m.usage.completion_tokens)} completion tokens`,
          text: `${formatInt(m.usage.completion_tokens)} tokens${cost !== undefined ? ` · ${formatCost(cost)}` : ""}`,
        }),
      );
    }
    if (m.content && m.status !== "streaming") row.append(copyButton("Copy", () => this.#message.content as string));
    if (!flags.idle) return;
    // Asking again cannot help a message that is too long for the model: Edit (on the question) can.
    if (tooLong(m, flags.firstTurn)) return;
    if (flags.continuable) row.append(iconButton("play", "Continue", () => this.#actions.continue(), { showLabel: true, class: "primary-soft" }));
    row.append(iconButton("refresh", "Regenerate", () => this.#actions.regenerate(m.id), { showLabel: flags.newest }));
  }

  /**
   * "‹ 2/3 ›" for a message with more than one version. Screen readers hear the group's label ("Version 2 of 3"),
   * also when focus lands on the sibling's buttons after a switch; the short form is for the eye. The buttons wait
   * while anything is on its way: a switch is refused then.
   */
  #versions(): HTMLElement | null {
    const { version, idle } = this.#flags!;
    if (version.count < 2) return null;
    const button = (step: Step, name: "previous" | "next", label: string) => {
      const b = iconButton(name, label, () => this.#actions.switchVersion(this.#message, step));
      const to = version.index + step;
      b.disabled = !idle || to < 0 || to >= version.count;
      return b;
    };
    const position = `${version.index + 1}/${version.count}`;
    return h(
      "div",
      { class: "versions", attrs: { role: "group", "aria-label": `Version ${version.index + 1} of ${version.count}` } },
      button(-1, "previous", "Previous version"),
      h("span", { class: "version-position", text: position, attrs: { "aria-hidden": "true" } }),
      button(1, "next", "Next version"),
    );
  }

  #startEdit(message: UserMessage): void {
    this.#editing = true;
    const original = typeof message.content === "string" ? message.content : message.content.map((p) => (p.type === "text" ? p.text : "")).join("\n");
    const input = h("textarea", { class: "edit-input", attrs: { rows: "3", "aria-label": "Edit your message" } });
    input.value = original;
    const stop = () => {
      this.#editing = false;
      this.#renderBody();
      this.#renderFooter();
    };
    const save = () => {
      const text = input.value.trim();
      if (!text && typeof message.content === "string") return;
      this.#editing = false;
      // The edit lands when its turn takes the conversation's lock (at once, unless another tab is replying):
      // until then the message shows as it is, and the edited text is shown unsent at the end.
      this.#renderBody();
      this.#renderFooter();
      this.#actions.edit(message, text);
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        save();
      } else if (event.key === "Escape") stop();
    });
    clear(this.#body);
    clear(this.#footer);
    this.#body.append(
      input,
      h(
        "div",
        { class: "edit-actions" },
        h("button", { class: "button", text: "Cancel", attrs: { type: "button" }, on: { click: stop } }),
        h("button", { class: "button primary", text: "Save & send", attrs: { type: "button" }, on: { click: save } }),
      ),
    );
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
}

/**
 * Why a reply is not a plain, complete one: stopped, dropped, cut off, failed, or trimmed to fit. `firstTurn`: it
 * answers the conversation's first question, so no older turn was left out of its request.
 */
export function statusNotice(m: AssistantMessage, firstTurn = false): ErrorText | undefined {
  if (m.status === "error") return m.error ? describeStoredError(m.error, firstTurn ? { droppedTurns: 0 } : {}) : { tone: "error", title: "The reply failed" };
  if (m.status === "interrupted") {
    if (m.error) return describeStoredError(m.error);
    if (m.finishReason === "length") return { tone: "warning", title: "Cut off at the length limit", detail: "Continue asks for the rest." };
    return { tone: "warning", title: "Interrupted", detail: "The page closed while this reply was arriving. The text so far is kept." };
  }
  if (m.contextRetry && m.status === "complete") {
    return { tone: "info", title: "This conversation no longer fit; older turns were dropped", detail: "The reply only saw the most recent part of the conversation." };
  }
  return undefined;
}

/** Refused as too long (nothing was sent), or too long for the server with nothing older to leave out. */
function tooLong(m: AssistantMessage, firstTurn: boolean): boolean {
  const name = m.error?.name;
  return m.status === "error" && (name === "ContextBudgetError" || (name === "ContextLengthError" && firstTurn));
}

// Not a live region: a notice is part of the message, read with it (a reply that ends is announced by the list).
function noticeBox(notice: ErrorText): HTMLElement {
  return h(
    "div",
    { class: `status-notice ${notice.tone}` },
    icon(notice.tone === "info" ? "stop" : "alert"),
    h("div", {}, h("strong", { text: notice.title }), notice.detail ? h("span", { text: ` ${notice.detail}` }) : null),
  );
}

const CONTAINERS = new Set(["UL", "OL", "LI", "BLOCKQUOTE", "DIV", "TABLE", "THEAD", "TBODY", "TR"]);
const TEXT_BLOCKS = new Set(["P", "H1", "H2", "H3", "H4", "H5", "H6", "TD", "TH"]);

/** Where the text ends: the deepest last block (a list's last item, a quote's last paragraph, a code block). */
function caretTarget(body: HTMLElement): Element {
  let target: Element = body;
  for (;;) {
    const last = target.lastElementChild;
    if (!last) return target;
    if (last.tagName === "PRE") return last.lastElementChild ?? last;
    if (TEXT_BLOCKS.has(last.tagName)) return last;
    if (!CONTAINERS.has(last.tagName)) return target; // inline markup: the caret goes after it, in its block
    target = last;
  }
}

function typing(): HTMLElement {
  return h("span", { class: "typing", attrs: { "aria-label": "The model is writing" } }, h("i"), h("i"), h("i"));
}

/** Copies text (never HTML) to the clipboard; says "Copied" for a moment. */
function copyButton(label: string, text: () => string, options: { class?: string; showLabel?: boolean } = {}): HTMLButtonElement {
  const button = iconButton(
    "copy",
    label,
    async () => {
      try {
        await navigator.clipboard.writeText(text());
        button.classList.add("done");
        button.setAttribute("aria-label", "Copied");
        if (shown) shown.textContent = "Copied";
        setTimeout(() => {
          button.classList.remove("done");
          button.setAttribute("aria-label", label);
          if (shown) shown.textContent = label;
        }, 1500);
      } catch {
        // Clipboard access denied: nothing to do.
      }
    },
    options,
  );
  const shown = button.querySelector("span");
  return button;
}

/** A "Copy" button on each code block of a finished reply: it copies the block's text, as shown. */
function addCodeCopyButtons(body: HTMLElement): void {
  for (const pre of Array.from(body.querySelectorAll("pre"))) {
    const code = pre.querySelector("code");
    if (!code) continue;
    const block = h("div", { class: "code-block" });
    pre.replaceWith(block);
    block.append(pre, copyButton("Copy code", () => code.textContent ?? "", { class: "code-copy", showLabel: true }));
  }
}

