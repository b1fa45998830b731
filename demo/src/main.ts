// Entry point: ask the server what it is, open the browser's conversation store, start the page.
import "./styles.css";
import { startApp } from "./app.ts";
import { byId, h } from "./dom.ts";
import { apiBaseURL, loadServerInfo } from "./server-info.ts";

async function boot(): Promise<void> {
  const baseURL = apiBaseURL();
  const splash = byId("splash");
  try {
    const info = await loadServerInfo(baseURL, AbortSignal.timeout(10_000));
    startApp(info, baseURL);
    splash.remove();
    document.body.dataset.ready = "true";
  } catch (error) {
    console.error(error);
    splash.replaceChildren(
      h("div", { class: "splash-card" },
        h("h1", { text: "Can't reach the server" }),
        h("p", { text: `The page asked ${baseURL}/info and got no answer. Start the demo with npm run demo, then try again.` }),
        h("button", { class: "button primary", text: "Try again", attrs: { type: "button" }, on: { click: () => location.reload() } }),
      ),
    );
    splash.dataset.state = "error";
  }
}

void boot();
