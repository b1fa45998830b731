import { decodeEntities } from "./entities.ts";

const ALLOWED = new Set(["http:", "https:", "mailto:"]);

/**
 * The href to use for a link written by the model, or undefined when it must stay text. Only absolute
 * http(s) and mailto URLs pass. The check runs on what a browser would parse (entities decoded, then the
 * WHATWG URL parser, which also strips the tabs and newlines of `java\tscript:`), never on the raw text.
 */
export function safeHref(raw: string): string | undefined {
  const text = decodeEntities(raw).trim();
  if (text === "" || /\s/.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined; // relative, or not a URL at all
  }
  return ALLOWED.has(url.protocol) ? url.href : undefined;
}
