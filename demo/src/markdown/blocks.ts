// Block markdown → DOM: paragraphs, headings, fenced code, lists (nested), blockquotes, tables, rules.
// Lines are classified here; everything inside a block goes through appendInline, which only makes Text nodes
// and safe links. Half-written markdown (a reply still streaming) renders sensibly: an open fence runs to the end.
import { appendInline } from "./inline.ts";

const MAX_NESTING = 8;

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*)|[ \t]*)$/;
const TABLE_DELIMITER = /^ *\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$/;
const BLANK = /^\s*$/;

export function appendBlocks(parent: Node, lines: readonly string[], doc: Document, depth = 0): void {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (BLANK.test(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      i = codeBlock(parent, lines, i, fence[1]!, fence[2]!, doc);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const h = parent.appendChild(doc.createElement(`h${heading[1]!.length}`));
      appendInline(h, heading[2] ?? "", doc);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      parent.appendChild(doc.createElement("hr"));
      i++;
      continue;
    }
    if (depth < MAX_NESTING && QUOTE.test(line)) {
      const inner: string[] = [];
      for (; i < lines.length && !BLANK.test(lines[i]!); i++) {
        const quoted = QUOTE.exec(lines[i]!);
        inner.push(quoted ? quoted[1]! : lines[i]!); // a line without ">" continues the quote's paragraph
      }
      appendBlocks(parent.appendChild(doc.createElement("blockquote")), inner, doc, depth + 1);
      continue;
    }
    if (depth < MAX_NESTING && ITEM.test(line)) {
      i = list(parent, lines, i, doc, depth);
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_DELIMITER.test(lines[i + 1]!) && lines[i + 1]!.includes("-")) {
      const columns = cells(line).length;
      if (columns === cells(lines[i + 1]!).length) {
        i = table(parent, lines, i, doc);
        continue;
      }
    }
    i = paragraph(parent, lines, i, doc);
  }
}

/** True when `line` starts a block other than a paragraph (so it interrupts one). */
function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

function paragraph(parent: Node, lines: readonly string[], start: number, doc: Document): number {
  let i = start + 1;
  while (i < lines.length && !BLANK.test(lines[i]!) && !startsBlock(lines[i]!)) i++;
  const p = parent.appendChild(doc.createElement("p"));
  appendInline(p, lines.slice(start, i).map((l) => l.trim()).join("\n"), doc);
  return i;
}

function codeBlock(parent: Node, lines: readonly string[], start: number, marker: string, info: string, doc: Document): number {
  const indent = /^ */.exec(lines[start]!)![0].length;
  const body: string[] = [];
  let i = start + 1;
  for (; i < lines.length; i++) {
    const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]!);
    if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length) {
      i++;
      break;
    }
    body.push(lines[i]!.replace(new RegExp(`^ {0,${indent}}`), ""));
  }
  const pre = parent.appendChild(doc.createElement("pre"));
  const code = pre.appendChild(doc.createElement("code"));
  const language = info.replace(/[^\w+#.-]/g, "").slice(0, 32);
  if (language) pre.setAttribute("data-language", language);
  code.textContent = body.join("\n");
  return i;
}

interface Marker {
  indent: number;
  ordered: boolean;
  /** The bullet character, or the ordered delimiter ("." or ")"). */
  symbol: string;
  start: number;
  /** Column where the item's text starts. */
  content: number;
  text: string;
}

function marker(line: string): Marker | undefined {
  const m = ITEM.exec(line);
  if (!m) return undefined;
  const ordered = /\d/.test(m[2]![0]!);
  const text = m[3] ?? "";
  return {
    indent: m[1]!.length,
    ordered,
    symbol: ordered ? m[2]!.slice(-1) : m[2]!,
    start: ordered ? Number.parseInt(m[2]!, 10) : 1,
    content: line.length - text.length,
    text,
  };
}

const indentOf = (line: string) => /^ */.exec(line)![0].length;

function list(parent: Node, lines: readonly string[], start: number, doc: Document, depth: number): number {
  const first = marker(lines[start]!)!;
  const el = doc.createElement(first.ordered ? "ol" : "ul");
  if (first.ordered && first.start !== 1) el.setAttribute("start", String(first.start));
  parent.appendChild(el);
  const items: string[][] = [];
  let loose = false;
  let i = start;
  while (i < lines.length) {
    const m = marker(lines[i]!);
    if (!m || m.indent > first.indent + 1 || m.ordered !== first.ordered || m.symbol !== first.symbol) break;
    const item = [m.text];
    const contentIndent = m.content;
    i++;
    for (; i < lines.length; i++) {
      const line = lines[i]!;
      if (BLANK.test(line)) {
        // A blank line stays in the item only if the item continues, indented, after it.
        let next = i + 1;
        while (next < lines.length && BLANK.test(lines[next]!)) next++;
        if (next < lines.length && indentOf(lines[next]!) > first.indent && !isSibling(lines[next]!, first)) {
          loose = true;
          item.push("");
          i = next - 1; // the blank lines between are one gap
          continue;
        }
        if (next < lines.length && isSibling(lines[next]!, first)) loose = true;
        i = next;
        break;
      }
      if (indentOf(line) > first.indent && !isSibling(line, first)) {
        item.push(line.slice(Math.min(indentOf(line), contentIndent)));
        continue;
      }
      // A lazy continuation line of the item's paragraph.
      if (!startsBlock(line) && !BLANK.test(item[item.length - 1]!)) {
        item.push(line.trim());
        continue;
      }
      break;
    }
    items.push(item);
    if (i < lines.length && !isSibling(lines[i]!, first)) break;
  }
  for (const item of items) {
    const li = el.appendChild(doc.createElement("li"));
    appendBlocks(li, item, doc, depth + 1);
    // A tight list shows its items' text without paragraph spacing.
    if (!loose) for (const p of Array.from(li.children).filter((c) => c.tagName === "P")) p.replaceWith(...Array.from(p.childNodes));
  }
  return i;
}

function isSibling(line: string, first: Marker): boolean {
  const m = marker(line);
  return m !== undefined && m.indent <= first.indent + 1 && m.ordered === first.ordered && m.symbol === first.symbol;
}

function cells(row: string): string[] {
  let text = row.trim();
  if (text.startsWith("|")) text = text.slice(1);
  if (text.endsWith("|") && !text.endsWith("\\|")) text = text.slice(0, -1);
  const out: string[] = [];
  let cell = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\" && text[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (text[i] === "|") {
      out.push(cell.trim());
      cell = "";
    } else cell += text[i];
  }
  out.push(cell.trim());
  return out;
}

function table(parent: Node, lines: readonly string[], start: number, doc: Document): number {
  const align = cells(lines[start + 1]!).map((c) => (c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : ""));
  const wrap = parent.appendChild(doc.createElement("div"));
  wrap.className = "table-wrap";
  const el = wrap.appendChild(doc.createElement("table"));
  const row = (section: HTMLElement, text: string, tag: "th" | "td") => {
    const tr = section.appendChild(doc.createElement("tr"));
    const values = cells(text);
    align.forEach((a, k) => {
      const cell = tr.appendChild(doc.createElement(tag));
      if (a) cell.className = `align-${a}`;
      appendInline(cell, values[k] ?? "", doc);
    });
  };
  row(el.appendChild(doc.createElement("thead")), lines[start]!, "th");
  const body = el.appendChild(doc.createElement("tbody"));
  let i = start + 2;
  for (; i < lines.length && !BLANK.test(lines[i]!) && lines[i]!.includes("|"); i++) row(body, lines[i]!, "td");
  return i;
}
