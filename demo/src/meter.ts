// The context meter: how much of the model's window the next request would use (the active path and what is being
// typed or attached, fitted by the SDK: next-request.ts), how many older turns it or the last request left out, a
// warning when the draft alone is too long, and what the conversation has cost so far (`conversation.usage`: every
// version of every message, not only the path shown). One line of text whatever it says: the top bar keeps its height.
import type { ContextReport, Conversation } from "edgechat";
import { h } from "./dom.ts";
import { formatCost, formatInt, plural } from "./format.ts";
import { type Draft, EMPTY_DRAFT, nextRequest } from "./next-request.ts";

export interface Meter {
  /** `conversation`: the open one, or a blank one for the model a new chat would use. */
  update(conversation: Conversation, draft?: Draft): void;
}

export function createMeter(root: HTMLElement): Meter {
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

  const tokensText = (n: number, window: number) => {
    tokens.replaceChildren(`${formatInt(n)} / ${formatInt(window)}`, h("span", { class: "meter-unit", text: " tokens" }));
  };

  return {
    update(conversation, draft = EMPTY_DRAFT) {
      const window = conversation.contextWindow;
      const next = nextRequest(conversation, draft);
      const pct = (n: number) => `${Math.min(100, (n / window) * 100).toFixed(2)}%`;
      bar.setAttribute("aria-valuemax", String(window));
      if (!next.fits) {
        // The message alone does not fit: sending it would be refused. Say so before it is sent.
        fill.style.width = "100%";
        draftFill.style.width = "0%";
        bar.setAttribute("aria-valuenow", String(window));
        root.dataset.level = "over";
        tokensText(next.needed, window);
        tokens.title = `Your message needs about ${formatInt(next.needed)} tokens; ${formatInt(next.budget)} fit next to the space kept for the reply.`;
        dropped.hidden = false;
        dropped.textContent = "Too long to send: shorten it";
        dropped.title = tokens.title;
      } else {
        const history = next.tokens - next.draft;
        fill.style.width = pct(history);
        draftFill.style.width = pct(Math.min(next.draft, Math.max(0, window - history)));
        bar.setAttribute("aria-valuenow", String(next.tokens));
        const level = next.tokens / window;
        root.dataset.level = level > 0.9 ? "full" : level > 0.7 ? "high" : "ok";
        tokensText(next.tokens, window);
        tokens.title =
          `About ${formatInt(history)} tokens of history would go with the next message` +
          `${next.draft ? `, plus about ${formatInt(next.draft)} for what you are typing and attaching` : ""}. ` +
          `${formatInt(next.budget)} fit next to the space kept for the reply.`;
        const last = lastReport(conversation);
        const left = last?.droppedTurns ?? next.droppedTurns;
        dropped.hidden = left === 0;
        dropped.textContent = last ? `${plural(left, "older turn")} left out of the last request` : `${plural(left, "older turn")} will be left out`;
        dropped.title = "The oldest turns that do not fit the model's context window are not sent.";
      }
      root.toggleAttribute("data-dropped", !dropped.hidden);
      // What the conversation has cost: every reply the server priced, in every version (Regenerate, Edit) and other
      // tabs' included, whichever path is shown. The SDK keeps it in the store's metadata, so it is the same after a
      // reload.
      const usage = conversation.usage;
      cost.replaceChildren(formatCost(usage.cost), h("span", { class: "meter-unit", text: " so far" }));
      cost.title = `${formatInt(usage.promptTokens)} prompt + ${formatInt(usage.completionTokens)} completion tokens, as reported by the server, for every reply in this conversation (every version included)`;
      bar.setAttribute("aria-valuetext", [tokens.textContent, dropped.hidden ? "" : dropped.textContent, cost.textContent].filter(Boolean).join(", "));
    },
  };
}
