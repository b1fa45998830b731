// One line above the composer for what is not part of a message: a retry countdown, a storage problem, an
// image that could not be read. A newer notice replaces the older one.
import type { RetryInfo } from "edgechat";
import { append, clear, h, icon, iconButton } from "./dom.ts";
import { type ErrorText, describeError, retryText } from "./errors-text.ts";

export interface NoticeAction {
  label: string;
  run(): void;
}

export interface Notices {
  show(text: ErrorText, actions?: NoticeAction[]): void;
  error(error: unknown, actions?: NoticeAction[]): void;
  /** "Rate limited — retrying in 3 s", counting down until the retry goes out. */
  retry(info: RetryInfo): void;
  /** Clear the retry countdown (the reply started or ended). */
  clearRetry(): void;
  clear(): void;
}

export function createNotices(root: HTMLElement): Notices {
  let timer: ReturnType<typeof setInterval> | undefined;
  let retrying = false;

  const stopTimer = () => {
    clearInterval(timer);
    timer = undefined;
    retrying = false;
  };

  const render = (tone: ErrorText["tone"], title: string, detail: string | undefined, actions: NoticeAction[] = [], dismissable = true) => {
    clear(root);
    root.hidden = false;
    root.className = `notice ${tone}`;
    root.setAttribute("role", tone === "error" ? "alert" : "status");
    append(
      root,
      icon(tone === "info" ? "refresh" : "alert"),
      h("div", { class: "notice-text" }, h("strong", { text: title }), detail ? h("span", { text: ` ${detail}` }) : null),
      ...actions.map((a) => h("button", { class: "button small", text: a.label, attrs: { type: "button" }, on: { click: () => a.run() } })),
      dismissable ? iconButton("close", "Dismiss", () => api.clear(), { class: "notice-close" }) : null,
    );
  };

  const api: Notices = {
    show(text, actions) {
      stopTimer();
      render(text.tone, text.title, text.detail, actions);
    },
    error(error, actions) {
      api.show(describeError(error), actions);
    },
    retry(info) {
      stopTimer();
      retrying = true;
      const due = Date.now() + info.delayMs;
      const tick = () => {
        const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
        render("warning", retryText(info, left), undefined, [], false);
        root.dataset.kind = "retry";
        if (left === 0) clearInterval(timer);
      };
      tick();
      timer = setInterval(tick, 250);
    },
    clearRetry() {
      if (retrying) api.clear();
    },
    clear() {
      stopTimer();
      clear(root);
      root.hidden = true;
      delete root.dataset.kind;
    },
  };
  root.hidden = true;
  return api;
}
