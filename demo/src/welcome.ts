// The empty state of a new chat: what this is, and a few things to try. With the simulated model, the cards are its
// commands, each said in a few whole words (the server's own summary, which can be long, is the card's tooltip);
// the banner's "Try:" row is hidden while they are on screen, so the two never repeat each other.
import { h } from "./dom.ts";
import { modelLabel } from "./format.ts";
import { appendInline } from "./markdown/inline.ts";
import { plainText } from "./markdown/plain.ts";
import type { ServerInfo } from "./server-info.ts";

/** What each simulator command shows, short enough for a card. */
const COMMAND_BLURBS: Record<string, string> = {
  "/help": "Lists the simulator's commands.",
  "/ratelimit": "A 429 rate limit: watch the client wait and retry.",
  "/context": "The server's context-overflow error, in plain words.",
  "/error": "A reply that fails mid-stream.",
  "/slow": "A long, slow reply: try Stop, then Continue.",
  "/xss": "Hostile HTML and markdown, shown as inert text.",
};

/** Questions for the page's tools (src/tools.ts), and one for a JSON answer: the simulator answers them too. */
export const TOOL_PROMPTS = ["What time is it?", "How big is this image?", 'Copy "Hello from edgechat" to my clipboard', "Give me this message's stats as JSON"];

const PROMPTS = [
  { title: "Explain streaming", text: "Explain in three short paragraphs how server-sent events stream a chat reply." },
  { title: "Describe an image", text: "Describe this image in detail: " },
  { title: "Write some code", text: "Write a TypeScript function that debounces another function, with a short usage example." },
  { title: "Make a table", text: "Compare IndexedDB, localStorage and the Cache API in a markdown table." },
];

export function renderWelcome(root: HTMLElement, info: ServerInfo, insert: (text: string) => void): void {
  const simulated = info.mode === "simulated";
  const cards = simulated
    ? (info.simulated?.commands ?? []).map((c) => ({ title: c.name, text: `${c.name} `, detail: COMMAND_BLURBS[c.name] ?? c.summary, tooltip: c.summary }))
    : PROMPTS.map((p) => ({ ...p, detail: p.text, tooltip: p.text }));
  root.append(
    h("div", { class: "welcome-mark", attrs: { "aria-hidden": "true" } }, "e"),
    h("h1", { class: "welcome-title", text: "What can I help with?" }),
    h("p", {
      class: "welcome-lead",
      text: simulated
        ? "This demo is running without a DeepInfra token, so a simulator answers: it reports facts about each request and can fail on purpose. Try a command:"
        : `${modelLabel(info.defaultModel)} on DeepInfra, streamed through edgechat. Attach an image with the clip, by dropping it, or by pasting it.`,
    }),
    h(
      "div",
      { class: "welcome-cards" },
      ...cards.map((c) =>
        h("button", { class: "welcome-card", title: plainText(c.tooltip), attrs: { type: "button" }, on: { click: () => insert(c.text) } }, h("strong", { text: c.title }), inline(c.detail)),
      ),
    ),
    // The page declares its tools to the simulator only (app.ts).
    ...(simulated
      ? [
          h(
            "div",
            { class: "welcome-tools", attrs: { role: "group", "aria-labelledby": "welcome-tools-label" } },
            h("span", { class: "welcome-tools-label", text: "Try the page's tools, or a JSON answer:", attrs: { id: "welcome-tools-label" } }),
            ...TOOL_PROMPTS.map((text) => h("button", { class: "chip prompt-chip", text, attrs: { type: "button" }, on: { click: () => insert(text) } })),
          ),
        ]
      : []),
  );
}

/** A command's summary may hold `code`: rendered by the same safe inline renderer as replies. */
function inline(text: string): HTMLElement {
  const span = h("span");
  appendInline(span, text, document);
  return span;
}
