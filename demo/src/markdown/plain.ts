// Inline markdown as plain text, for places that show a line of it without markup: conversation titles, the page's
// title. The same safe renderer as replies (Text nodes only), read back as text: `**short**` → "short".
import { appendInline } from "./inline.ts";

export function plainText(markdown: string | undefined, doc: Document = document): string {
  if (!markdown) return "";
  const span = doc.createElement("span");
  appendInline(span, markdown.replace(/\s+/g, " ").trim(), doc);
  return (span.textContent ?? "").replace(/\s+/g, " ").trim();
}
