// The context meter: how much of the model's window the next request would use (the active path: `fit()`), how
// many older turns the last request left out, and what the conversation has cost so far (`conversation.usage`: every
// version of every message, not only the path shown).
import { type ContextReport, type Conversation, type FitResult, type Message, estimateTokens } from "edgechat";
import { h } from "./dom.ts";
import { formatCost, formatInt, plural } from "./format.ts";

export interface Meter {
  update(conversation: Conversation | undefined, draft?: string): void;
}

export function createMeter(root: HTMLElement, contextWindow: () => number): Meter {
  const fill = h("span", { class: "meter-fill" });
  const draftFill = h("span", { class: "meter-draft" });
  const bar = h("div", { class: "meter-bar", attrs: { role: "meter", "aria-label": "Context window used", "aria-valuemin": "0" } }, fill, draftFill);
  const tokens = h("span", { class: "meter-tokens" });
  const dropped = h("span", { class: "meter-dropped" });
  const cost = h("span", { class: "meter-cost" });
  root.append(bar, h("div", { class: "meter-text" }, tokens, dropped, cost));

  // The last request's report holds for the path it was made on. It is tied to the newest message when first seen
  // (its reply, or the question it answers); after a switch to a path without that message, the estimate for the
  // path shown says what the next request will leave out.
  const madeOn = new WeakMap<ContextReport, string>();
  const lastReport = (conversation: Conversation): ContextReport | undefined => {
    const report = conversation.lastContext;
    const newest = conversation.messages.at(-1)?.id;
    if (!report || newest === undefined) return undefined;
    if (!madeOn.has(report)) madeOn.set(report, newest);
    return conversation.messages.some((m) => m.id === madeOn.get(report)) ? report : undefined;
  };

  return {
    update(conversation, draft = "") {
      const window = conversation?.contextWindow ?? contextWindow();
      let fit: FitResult<Message> | undefined;
      try {
        fit = conversation?.fit();
      } catch {
        fit = undefined; // what must be sent no longer fits: the next send reports it
      }
      const used = fit?.tokens ?? 0;
      const extra = draft.trim() ? estimateTokens(draft) + 4 : 0;
      const pct = (n: number) => `${Math.min(100, (n / window) * 100).toFixed(2)}%`;
      fill.style.width = pct(used);
      draftFill.style.width = pct(Math.min(extra, Math.max(0, window - used)));
      bar.setAttribute("aria-valuemax", String(window));
      bar.setAttribute("aria-valuenow", String(used));
      const level = used / window;
      root.dataset.level = level > 0.9 ? "full" : level > 0.7 ? "high" : "ok";
      tokens.textContent = `${formatInt(used + extra)} / ${formatInt(window)} tokens`;
      tokens.title = fit
        ? `About ${formatInt(used)} tokens of history would go with the next message${extra ? `, plus about ${formatInt(extra)} for what you are typing` : ""}. ` +
          `${formatInt(fit.budget)} fit next to the space kept for the reply.`
        : "Estimated with edgechat's token counter";
      const last = conversation && lastReport(conversation);
      const left = last?.droppedTurns ?? fit?.droppedTurns ?? 0;
      dropped.hidden = left === 0;
      dropped.textContent = last ? `${plural(left, "older turn")} left out of the last request` : `${plural(left, "older turn")} will be left out`;
      // What the conversation has cost: every reply the server priced, in every version (Regenerate, Edit) and other
      // tabs' included, whichever path is shown. The SDK keeps it in the store's metadata, so it is the same after a
      // reload.
      const usage = conversation?.usage;
      cost.textContent = `${formatCost(usage?.cost ?? 0)} so far`;
      cost.title = usage
        ? `${formatInt(usage.promptTokens)} prompt + ${formatInt(usage.completionTokens)} completion tokens, as reported by the server, for every reply in this conversation (every version included)`
        : "";
    },
  };
}
