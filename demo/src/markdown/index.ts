// Safe markdown for model output. Nothing here parses HTML: every piece of text becomes a Text node, elements
// come from a fixed list of tags, and the only attribute taken from the input is an http(s)/mailto href.
import { appendBlocks } from "./blocks.ts";

export { safeHref } from "./safe-url.ts";

/** Inputs longer than this are shown as plain text rather than parsed (a runaway reply must not freeze the page). */
const MAX_MARKDOWN = 200_000;

/** Render markdown as DOM nodes, ready to append. */
export function renderMarkdown(source: string, doc: Document = document): DocumentFragment {
  const fragment = doc.createDocumentFragment();
  const text = source.replace(/\r\n?/g, "\n").replace(/\0/g, "\ufffd");
  if (text.length > MAX_MARKDOWN) {
    const pre = fragment.appendChild(doc.createElement("pre"));
    pre.className = "plain";
    pre.textContent = text;
    return fragment;
  }
  const lines = text.split("\n").map((line) => line.replace(/^\t+/, (tabs) => "    ".repeat(tabs.length)));
  appendBlocks(fragment, lines, doc);
  return fragment;
}
