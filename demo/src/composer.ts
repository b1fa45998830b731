// The message box: a growing textarea, an image button (plus drop and paste), Send, and Stop while a reply is on its
// way. Sending while busy queues the message: it goes out when the reply before it is done (whileBusy "queue").
// A message that never went out (Stop, Cancel) comes back into the box.
import { type Attachment, type AttachmentState, createAttachments } from "./attachments.ts";
import { clear, h, icon, iconButton } from "./dom.ts";
import { formatBytes } from "./format.ts";
import type { Draft } from "./next-request.ts";

export interface ComposerActions {
  /** Return false to keep the text (the send did not start). */
  send(text: string, image: Attachment | undefined): boolean;
  stop(): void;
  error(error: unknown): void;
  /** The draft changed: its text or its image (for the context meter's estimate). */
  draft(draft: Draft): void;
}

export interface Composer {
  setBusy(busy: boolean): void;
  setEnabled(enabled: boolean): void;
  /** Put back a message that was never sent: its text after what is in the box, its image if none is attached. */
  restore(text: string, image: Attachment | undefined): void;
  insert(text: string): void;
  focus(): void;
}

const MAX_HEIGHT = 220;

export function createComposer(form: HTMLFormElement, dropOverlay: HTMLElement, actions: ComposerActions): Composer {
  const input = h("textarea", {
    class: "composer-input",
    attrs: { rows: "1", placeholder: "Message Llama 3.2 Vision…", "aria-label": "Message", enterkeyhint: "send", autocomplete: "off" },
  });
  const file = h("input", { class: "file-input", attrs: { type: "file", accept: "image/jpeg,image/png,image/webp,image/gif", "aria-label": "Attach an image", hidden: true } });
  const preview = h("div", { class: "attachment-preview", attrs: { "aria-live": "polite" } });
  const attach = iconButton("paperclip", "Attach an image", () => file.click(), { class: "attach" });
  const submit = h("button", { class: "send", attrs: { type: "submit", "aria-label": "Send" } }, icon("send"));
  const stop = h("button", { class: "stop", title: "Stop the reply (Esc)", attrs: { type: "button", "aria-label": "Stop", hidden: true } }, icon("stop"));
  const hint = h("p", { class: "composer-hint", attrs: { id: "composer-hint" } });
  submit.setAttribute("aria-describedby", "composer-hint");
  form.append(preview, h("div", { class: "composer-row" }, attach, input, stop, submit), hint, file);
  stop.addEventListener("click", () => actions.stop());

  let busy = false;
  let enabled = true;
  const attachments = createAttachments(renderPreview, actions.error);

  function renderPreview(state: AttachmentState): void {
    clear(preview);
    preview.hidden = state.kind === "none";
    if (state.kind === "preparing") {
      preview.append(h("div", { class: "attachment preparing" }, h("span", { class: "spinner" }), h("span", { text: `Preparing ${state.name}…` })));
    } else if (state.kind === "ready") {
      const { attachment: a } = state;
      const sent = a.image;
      const resized = a.original.width !== undefined && (a.original.width !== sent.width || a.original.height !== sent.height);
      const dims = resized ? `${a.original.width} × ${a.original.height} → ${sent.width} × ${sent.height}` : sent.width !== undefined ? `${sent.width} × ${sent.height}` : "";
      preview.append(
        h(
          "div",
          { class: "attachment" },
          h("img", { attrs: { src: a.url, alt: `Preview of ${a.name}` } }),
          h(
            "div",
            { class: "attachment-info" },
            h("span", { class: "attachment-name", text: a.name }),
            h("span", { class: "attachment-size", attrs: { "data-sent-size": `${sent.width} × ${sent.height}` }, text: [dims, formatBytes(sent.data.length)].filter(Boolean).join(" · ") }),
            resized ? h("span", { class: "attachment-note", text: "Downscaled in your browser to what the model sees" }) : null,
          ),
          iconButton("close", "Remove image", () => attachments.clear(), { class: "remove" }),
        ),
      );
    }
    updateButton();
    notifyDraft();
  }

  const notifyDraft = () => actions.draft({ text: input.value, image: attachments.state.kind === "ready" ? attachments.state.attachment.image : undefined });

  const hasContent = () => input.value.trim() !== "" || attachments.state.kind === "ready";

  function updateButton(): void {
    stop.hidden = !busy;
    submit.title = busy ? "Send when the current reply is done" : "Send";
    submit.disabled = !enabled || !hasContent() || attachments.state.kind === "preparing";
    hint.textContent = busy
      ? "Enter queues your message: it goes out when the current reply is done · Esc stops the reply"
      : "Enter to send · Shift+Enter for a new line · drop or paste an image";
  }

  const grow = () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT)}px`;
  };

  const submitNow = () => {
    if (!enabled || !hasContent() || attachments.state.kind === "preparing") return;
    const image = attachments.state.kind === "ready" ? attachments.state.attachment : undefined;
    if (!actions.send(input.value.trim(), image)) return;
    if (image) attachments.take();
    input.value = "";
    grow();
    notifyDraft();
    updateButton();
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitNow();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitNow();
    }
  });
  input.addEventListener("input", () => {
    grow();
    updateButton();
    notifyDraft();
  });
  input.addEventListener("paste", (event) => {
    const image = pick(event.clipboardData?.files);
    if (!image) return;
    event.preventDefault();
    void attachments.add(image);
  });
  file.addEventListener("change", () => {
    const chosen = pick(file.files);
    if (chosen) void attachments.add(chosen);
    file.value = "";
  });

  // Drop an image anywhere on the page.
  let depth = 0;
  const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth++;
    dropOverlay.hidden = false;
  });
  document.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    if (--depth <= 0) {
      depth = 0;
      dropOverlay.hidden = true;
    }
  });
  document.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    dropOverlay.hidden = true;
    const dropped = pick(event.dataTransfer?.files);
    if (dropped) void attachments.add(dropped);
  });

  renderPreview(attachments.state);

  const api: Composer = {
    setBusy(next) {
      // Stop goes away with the reply: keyboard focus moves to the box instead of being lost with it.
      const refocus = !next && document.activeElement === stop;
      busy = next;
      updateButton();
      if (refocus) input.focus();
    },
    setEnabled(next) {
      enabled = next;
      input.disabled = !next;
      attach.disabled = !next;
      updateButton();
    },
    restore(text, image) {
      const now = input.value.trim();
      if (text) api.insert(now ? `${now}\n\n${text}` : text);
      if (image && attachments.state.kind === "none") attachments.restore(image);
    },
    insert(text) {
      input.value = text;
      grow();
      updateButton();
      notifyDraft();
      input.focus();
      input.setSelectionRange(text.length, text.length);
    },
    focus() {
      input.focus();
    },
  };
  return api;
}

/** An image among the files, else the first file (so a wrong type gets a clear error instead of nothing). */
function pick(files: FileList | null | undefined): File | undefined {
  const all = Array.from(files ?? []);
  return all.find((f) => f.type.startsWith("image/")) ?? all[0];
}
