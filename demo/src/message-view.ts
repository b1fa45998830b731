// One message on screen. Content is re-rendered only when the message object's content changes (streaming),
// the footer (status, usage, actions) whenever the conversation's shape or busy state changes.
import type { AssistantMessage, ImageContent, Message, MessagePart, UserMessage } from "edgechat";
import { clear, h, icon, iconButton } from "./dom.ts";
import { describeStoredError, type ErrorText } from "./errors-text.ts";
import { formatCost, formatInt } from "./format.ts";
import { renderMarkdown } from "./markdown/index.ts";

export interface MessageFlags {
  /** The newest user message, when no reply is streaming: it can be edited. */
  editable: boolean;
  /** The newest assistant message, when idle: it can be regenerated (and continued if interrupted). */
  lastReply: boolean;
  /** The newest message is this user message and no reply is coming (the page closed before one was saved). */
  unanswered: boolean;
  /** A reply is on its way (this tab's or another tab's): no actions that would start another. */
  busy: boolean;
  /** A reply that another tab is writing: this page follows it, but only that tab can stop it. */
  elsewhere: boolean;
}

export interface MessageActions {
  regenerate(): void;
  continue(): void;
  edit(message: UserMessage, text: string): void;
}

export class MessageView {
  readonly el: HTMLElement;
  #message: Message;
  #flags: MessageFlags | undefined;
  #body: HTMLElement;
  #footer: HTMLElement;
  #urls: string[] = [];
  #editing = false;
  readonly #actions: MessageActions;

  constructor(message: Message, actions: MessageActions) {
    this.#message = message;
    this.#actions = actions;
    this.#body = h("div", { class: message.role === "assistant" ? "message-body markdown" : "message-body" });
    this.#footer = h("div", { class: "message-footer" });
    const avatar = h("div", { class: "avatar", attrs: { "aria-hidden": "true" } }, message.role === "assistant" ? icon("sparkle") : "You");
    this.el = h("article", { class: `message ${message.role}`, attrs: { "data-id": message.id, "data-role": message.role } }, avatar, h("div", { class: "message-main" }, this.#body, this.#footer));
    this.#renderBody();
  }

  get message(): Message {
    return this.#message;
  }

  update(message: Message, flags: MessageFlags): void {
    const streaming = (m: Message) => m.role === "assistant" && m.status === "streaming";
    // The caret (or typing dots) goes when the reply ends, even if its last text was on screen already.
    const contentChanged = message.content !== this.#message.content || streaming(message) !== streaming(this.#message);
    const statusChanged = message !== this.#message;
    this.#message = message;
    if (contentChanged && !this.#editing) this.#renderBody();
    const f = this.#flags;
    if (statusChanged || !f || f.editable !== flags.editable || f.lastReply !== flags.lastReply || f.unanswered !== flags.unanswered || f.busy !== flags.busy || f.elsewhere !== flags.elsewhere) {
      this.#flags = flags;
      this.#renderFooter();
    }
    const status = message.role === "assistant" ? message.status : "complete";
    this.el.dataset.status = status;
  }

  dispose(): void {
    for (const url of this.#urls) URL.revokeObjectURL(url);
    this.#urls = [];
  }

  #renderBody(): void {
    clear(this.#body);
    const m = this.#message;
    if (m.role === "assistant") {
      this.#body.append(renderMarkdown(m.content));
      if (m.status === "streaming") {
        if (m.content === "") this.#body.append(typing());
        else caretTarget(this.#body).append(h("span", { class: "caret", attrs: { "aria-hidden": "true" } }));
      }
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
    return h(
      "figure",
      { class: "message-image" },
      h("img", { attrs: { src, alt: size ? `Attached image, ${size} pixels` : "Attached image", loading: "lazy", referrerpolicy: "no-referrer" } }),
      size ? h("figcaption", { text: size }) : null,
    );
  }

  #renderFooter(): void {
    clear(this.#footer);
    const m = this.#message;
    const flags = this.#flags!;
    if (m.role === "user") {
      if (this.#editing) return;
      const row = h("div", { class: "message-meta" });
      if (flags.unanswered) row.append(iconButton("refresh", "Get a reply", () => this.#actions.regenerate(), { showLabel: true, class: "primary-soft" }));
      if (flags.editable) row.append(iconButton("pencil", "Edit", () => this.#startEdit(m), { showLabel: true }));
      if (row.childNodes.length > 0) this.#footer.append(row);
      return;
    }
    const notice = statusNotice(m);
    if (notice) this.#footer.append(noticeBox(notice));
    const row = h("div", { class: "message-meta" });
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
    if (m.content && m.status !== "streaming") row.append(copyButton(() => this.#message.content as string));
    if (flags.lastReply && !flags.busy) {
      if (m.status === "interrupted" && m.content !== "") row.append(iconButton("play", "Continue", () => this.#actions.continue(), { showLabel: true, class: "primary-soft" }));
      row.append(iconButton("refresh", "Regenerate", () => this.#actions.regenerate(), { showLabel: true }));
    }
    if (row.childNodes.length > 0) this.#footer.append(row);
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

/** Why a reply is not a plain, complete one: stopped, dropped, cut off, failed, or trimmed to fit. */
export function statusNotice(m: AssistantMessage): ErrorText | undefined {
  if (m.status === "error") return m.error ? describeStoredError(m.error) : { tone: "error", title: "The reply failed" };
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

function noticeBox(notice: ErrorText): HTMLElement {
  return h(
    "div",
    { class: `status-notice ${notice.tone}`, attrs: { role: notice.tone === "error" ? "alert" : "status" } },
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

function copyButton(text: () => string): HTMLButtonElement {
  const button = iconButton("copy", "Copy", async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.classList.add("done");
      setTimeout(() => button.classList.remove("done"), 1200);
    } catch {
      // Clipboard access denied: nothing to do.
    }
  });
  return button;
}

