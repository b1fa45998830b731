// The tool calls of one reply, inline in the chat: one compact row per call — the tool's name, its arguments (growing
// while the model writes them), its state in words, and its result (folded away when long). A call that waits for
// the user shows Allow and Deny. Everything is text: arguments and results come from the model and the tools.
import type { ToolCallPart } from "edgechat";
import { h } from "./dom.ts";

/** Results and arguments longer than this (or on several lines) are folded into a <details>. */
const INLINE_CHARS = 80;

const STATE_TEXT: Record<ToolCallPart["state"], string> = {
  input: "Writing…",
  pending: "Checking…",
  approval: "Needs your approval",
  approved: "Allowed",
  running: "Running…",
  done: "Done",
  error: "Failed",
  refused: "Denied",
};

export interface ToolCallFlags {
  /** The call may be answered now: its reply is the last message and nothing is on its way. */
  answerable: boolean;
  /** Its reply is the last message (else a call still waiting can no longer be answered). */
  last: boolean;
}

export class ToolCallsView {
  readonly el: HTMLElement;
  readonly #rows = new Map<string, Row>();
  readonly #answer: (callId: string, allowed: boolean) => void;

  constructor(answer: (callId: string, allowed: boolean) => void) {
    this.#answer = answer;
    this.el = h("ul", { class: "tool-calls", attrs: { "aria-label": "Tool calls" } });
    this.el.hidden = true;
  }

  update(calls: readonly ToolCallPart[] | undefined, flags: ToolCallFlags): void {
    const list = calls ?? [];
    this.el.hidden = list.length === 0;
    const keys = list.map((call, i) => call.id || `#${i}`);
    for (const [key, row] of this.#rows) {
      if (keys.includes(key)) continue;
      row.el.remove();
      this.#rows.delete(key);
    }
    list.forEach((call, i) => {
      const key = keys[i]!;
      let row = this.#rows.get(key);
      if (!row) {
        row = new Row(this.#answer);
        this.#rows.set(key, row);
      }
      row.update(call, flags);
      if (this.el.children[i] !== row.el) this.el.insertBefore(row.el, this.el.children[i] ?? null);
    });
  }
}

class Row {
  readonly el: HTMLElement;
  readonly #name = h("code", { class: "tool-name" });
  /** Short arguments, on the head's line; long ones are folded on a line of their own, below it. */
  readonly #args = h("span", { class: "tool-args" });
  readonly #argsFolded = h("div", { class: "tool-args-folded" });
  readonly #state = h("span", { class: "tool-state" });
  readonly #result = h("div", { class: "tool-result" });
  readonly #approval = h("div", { class: "tool-approval" });
  readonly #answer: (callId: string, allowed: boolean) => void;
  #call: ToolCallPart | undefined;
  #answerable = false;

  constructor(answer: (callId: string, allowed: boolean) => void) {
    this.#answer = answer;
    this.el = h(
      "li",
      { class: "tool-call" },
      h("div", { class: "tool-head" }, h("span", { class: "tool-label", text: "Tool" }), this.#name, this.#args, this.#state),
      this.#argsFolded,
      this.#result,
      this.#approval,
    );
  }

  update(call: ToolCallPart, { answerable, last }: ToolCallFlags): void {
    const before = this.#call;
    this.#call = call;
    this.el.dataset.state = call.state;
    this.el.dataset.name = call.name;
    if (call.id) this.el.dataset.callId = call.id;
    if (this.#name.textContent !== call.name) this.#name.textContent = call.name || "…";
    if (!before || before.arguments !== call.arguments || before.state !== call.state) {
      const args = call.arguments || (call.state === "input" ? "" : "{}");
      const folded = call.state !== "input" && foldable(args);
      setFolded(folded ? this.#argsFolded : this.#args, args, args, "Arguments", folded);
      (folded ? this.#args : this.#argsFolded).replaceChildren();
      this.#argsFolded.hidden = !folded;
    }
    // A call that waits for an answer nobody can give any more (a later message went out first) says so.
    const stale = call.state === "approval" && !last;
    this.#state.textContent = stale ? "Not answered" : STATE_TEXT[call.state];
    if (!before || before.result !== call.result || before.state !== call.state) {
      this.#result.replaceChildren();
      const string = typeof call.result === "string";
      // Refused: the state says it (the result is only the sentence the model is told).
      if (call.result !== undefined && call.state !== "refused") {
        const holder = h("span", { class: "tool-result-value" });
        const line = string ? (call.result as string) : JSON.stringify(call.result);
        setFolded(holder, line, string ? line : JSON.stringify(call.result, null, 2), call.state === "error" ? "Error" : "Result", foldable(line));
        this.#result.append(h("span", { class: "tool-arrow", text: "→", attrs: { "aria-hidden": "true" } }), holder);
      }
      this.#result.hidden = this.#result.childNodes.length === 0;
    }
    if (before?.state !== call.state || this.#answerable !== answerable) {
      this.#answerable = answerable;
      this.#renderApproval(call, answerable);
    }
  }

  #renderApproval(call: ToolCallPart, answerable: boolean): void {
    this.#approval.replaceChildren();
    this.#approval.hidden = !(call.state === "approval" && answerable);
    if (this.#approval.hidden) return;
    const answer = (allowed: boolean) => () => {
      // Once: the row changes state when the conversation takes the answer.
      for (const b of this.#approval.querySelectorAll("button")) b.disabled = true;
      this.#answer(call.id, allowed);
    };
    this.#approval.append(
      h("span", { class: "tool-approval-text", text: `Run ${call.name} with these arguments?` }),
      h("button", { class: "button small primary", text: "Allow", attrs: { type: "button", "aria-label": `Allow ${call.name}` }, on: { click: answer(true) } }),
      h("button", { class: "button small", text: "Deny", attrs: { type: "button", "aria-label": `Deny ${call.name}` }, on: { click: answer(false) } }),
    );
  }
}

/** Long, or on several lines: shown folded. */
const foldable = (text: string) => text.length > INLINE_CHARS || text.includes("\n");

/**
 * `text` in a <code>, or `fold`ed: a <details> whose summary starts it and which opens on `full` (the same, or JSON
 * laid out on lines).
 */
function setFolded(holder: HTMLElement, text: string, full: string, label: string, fold: boolean): void {
  const existing = holder.firstElementChild;
  if (!fold) {
    if (existing?.tagName === "CODE") {
      if (existing.textContent !== text) existing.textContent = text;
    } else holder.replaceChildren(h("code", { text }));
    return;
  }
  const open = existing?.tagName === "DETAILS" && (existing as HTMLDetailsElement).open;
  const oneLine = text.replace(/\s+/g, " ");
  holder.replaceChildren(
    h(
      "details",
      { attrs: { ...(open && { open: true }) } },
      h("summary", {}, h("span", { class: "visually-hidden", text: `${label}: ` }), h("code", { text: oneLine.length > INLINE_CHARS ? `${oneLine.slice(0, INLINE_CHARS)}…` : oneLine })),
      h("pre", { class: "tool-full" }, h("code", { text: full })),
    ),
  );
}
