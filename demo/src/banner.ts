// Says plainly when no real model is behind the page, and offers the simulator's commands — in a conversation only:
// on the empty chat the welcome cards offer them (styles.css hides this row while they are shown).
import { h } from "./dom.ts";
import type { ServerInfo } from "./server-info.ts";

export function renderBanner(root: HTMLElement, info: ServerInfo, insert: (text: string) => void): void {
  if (info.mode !== "simulated") {
    root.hidden = true;
    return;
  }
  const commands = info.simulated?.commands ?? [];
  root.hidden = false;
  root.append(
    h(
      "div",
      { class: "banner-text" },
      h("strong", { text: "Simulated model", title: "Set DEEPINFRA_TOKEN and restart npm run demo to talk to the real model" }),
      " — ",
      h("span", { class: "banner-why", text: "no DeepInfra token set; " }),
      "replies are computed, not generated.",
    ),
    h(
      "div",
      { class: "banner-commands", attrs: { "aria-label": "Simulator commands" } },
      h("span", { class: "banner-label", text: "Try:" }),
      ...commands.map((c) => h("button", { class: "chip", text: c.name, title: c.summary, attrs: { type: "button", "data-command": c.name }, on: { click: () => insert(`${c.name} `) } })),
    ),
  );
}
