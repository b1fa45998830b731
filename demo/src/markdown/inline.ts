// Inline markdown → DOM nodes: code spans, **strong**, *em*, ~~del~~, links, autolinks, backslash escapes.
// Text only ever becomes Text nodes; the only attribute built from model output is an href that safeHref allowed.
import { decodeEntities } from "./entities.ts";
import { safeHref } from "./safe-url.ts";

const PUNCTUATION = /[!-/:-@[-`{-~]/;
const MAX_DEPTH = 12;
/** Trailing characters that end a bare URL rather than belong to it. */
const URL_TAIL = /[.,;:!?'"*_~]+$/;

interface Context {
  doc: Document;
  scan: Scan;
  /** Inside a link: no nested links or autolinks. */
  inLink: boolean;
  depth: number;
}

/** Render inline markdown into `parent`; a newline becomes a line break. */
export function appendInline(parent: Node, text: string, doc: Document): void {
  renderInline(parent, text, { doc, scan: new Scan(text), inLink: false, depth: 0 });
}

/** Collects text (decoded at the end) and appends elements in order. */
class Out {
  #buffer = "";
  constructor(
    readonly parent: Node,
    readonly ctx: Context,
  ) {}
  text(text: string): void {
    this.#buffer += text;
  }
  /** Text that must not go through entity decoding. */
  raw(text: string): void {
    this.flush();
    this.parent.appendChild(this.ctx.doc.createTextNode(text));
  }
  node<T extends Node>(node: T): T {
    this.flush();
    this.parent.appendChild(node);
    return node;
  }
  /** A new element whose content is `inner`, parsed as inline markdown one level deeper. */
  element(tag: string, inner: string, inLink = this.ctx.inLink): HTMLElement {
    const el = this.node(this.ctx.doc.createElement(tag));
    fill(el, inner, { ...this.ctx, scan: new Scan(inner), inLink, depth: this.ctx.depth + 1 });
    return el;
  }
  flush(): void {
    if (this.#buffer) this.parent.appendChild(this.ctx.doc.createTextNode(decodeEntities(this.#buffer)));
    this.#buffer = "";
  }
}

function fill(el: Node, inner: string, ctx: Context): void {
  if (ctx.depth > MAX_DEPTH) el.appendChild(ctx.doc.createTextNode(decodeEntities(inner)));
  else renderInline(el, inner, ctx);
}

function renderInline(parent: Node, s: string, ctx: Context): void {
  const out = new Out(parent, ctx);
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;

    if (c === "\\" && i + 1 < s.length && PUNCTUATION.test(s[i + 1]!)) {
      // An escaped "&" stays literal: it must not start an entity.
      if (s[i + 1] === "&") out.raw("&");
      else out.text(s[i + 1]!);
      i += 2;
      continue;
    }

    if (c === "\n") {
      out.node(ctx.doc.createElement("br"));
      i++;
      continue;
    }

    if (c === "`") {
      const run = runLength(s, i, "`");
      const close = ctx.scan.backticks(i + run, run);
      if (close === -1) {
        out.text(s.slice(i, i + run));
        i += run;
        continue;
      }
      let inner = s.slice(i + run, close).replace(/\n/g, " ");
      if (inner.length > 2 && inner.startsWith(" ") && inner.endsWith(" ") && inner.trim() !== "") inner = inner.slice(1, -1);
      out.node(ctx.doc.createElement("code")).textContent = inner;
      i = close + run;
      continue;
    }

    if (c === "!" && s[i + 1] === "[") {
      const link = parseLink(ctx.scan, i + 1);
      if (link) {
        // Images are never loaded (no fetches triggered by model output): a safe one becomes a link.
        const href = ctx.inLink ? undefined : safeHref(link.url);
        if (href) out.node(anchor(ctx.doc, href, `Image: ${decodeEntities(link.label).trim() || href}`));
        else out.text(s.slice(i, link.end));
        i = link.end;
        continue;
      }
    }

    if (c === "[" && !ctx.inLink) {
      const link = parseLink(ctx.scan, i);
      if (link) {
        const href = safeHref(link.url);
        if (href) {
          const a = out.node(anchor(ctx.doc, href, ""));
          fill(a, link.label, { ...ctx, scan: new Scan(link.label), inLink: true, depth: ctx.depth + 1 });
          if (!a.textContent) a.textContent = href;
        } else out.text(s.slice(i, link.end)); // javascript:, data:, relative…: the markdown stays visible, as text
        i = link.end;
        continue;
      }
    }

    if (c === "<" && !ctx.inLink) {
      const m = /^<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>/.exec(s.slice(i, i + 2048));
      const href = m ? safeHref(m[1]!) : undefined;
      if (m && href) {
        out.node(anchor(ctx.doc, href, decodeEntities(m[1]!)));
        i += m[0].length;
        continue;
      }
      // Anything else that looks like HTML is plain text.
    }

    if ((c === "h" || c === "H") && !ctx.inLink && (i === 0 || /[\s(*_~]/.test(s[i - 1]!))) {
      const m = /^https?:\/\/[^\s<>`]+/i.exec(s.slice(i, i + 4096));
      if (m) {
        let url = m[0].replace(URL_TAIL, "");
        // A closing parenthesis without an opening one in the URL belongs to the sentence.
        while (url.endsWith(")") && count(url, "(") < count(url, ")")) url = url.slice(0, -1).replace(URL_TAIL, "");
        const href = safeHref(url);
        if (href) {
          out.node(anchor(ctx.doc, href, url));
          i += url.length;
          continue;
        }
      }
    }

    if (c === "*" || c === "_" || c === "~") {
      const run = runLength(s, i, c);
      const end = emphasis(s, i, run, c, out);
      if (end === -1) out.text(s.slice(i, i + run));
      i = end === -1 ? i + run : end;
      continue;
    }

    out.text(c);
    i++;
  }
  out.flush();
}

const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/** `**strong**`, `*em*`, `***both***`, `~~del~~` opening with the `run` delimiters at i: the index after it, or -1. */
function emphasis(s: string, i: number, run: number, c: string, out: Out): number {
  const after = s[i + run];
  if (after === undefined || /\s/.test(after)) return -1;
  if (c === "_" && isWordChar(s[i - 1])) return -1; // snake_case is not emphasis
  if (c === "~") {
    if (run !== 2) return -1;
    const close = findCloser(out.ctx.scan, i + 2, c, 2);
    if (close === -1) return -1;
    out.element("del", s.slice(i + 2, close));
    return close + 2;
  }
  for (let n = Math.min(run, 3); n >= 1; n--) {
    const close = findCloser(out.ctx.scan, i + run, c, n);
    if (close === -1) continue;
    out.text(s.slice(i, i + run - n)); // extra opening delimiters stay literal
    const inner = s.slice(i + run, close);
    if (n === 3) {
      const strong = out.node(out.ctx.doc.createElement("strong"));
      fill(strong.appendChild(out.ctx.doc.createElement("em")), inner, { ...out.ctx, scan: new Scan(inner), depth: out.ctx.depth + 2 });
    } else out.element(n === 2 ? "strong" : "em", inner);
    return close + n;
  }
  return -1;
}

/**
 * Where `n` closing delimiters start (after `from`, not after whitespace), skipping code spans and escapes.
 * A run of three also closes one or two, keeping the rest for the inner element (`*a **b***`).
 */
function findCloser(scan: Scan, from: number, c: string, n: number): number {
  const key = `${c}${n}`;
  if (scan.failedFrom(key) <= from) return -1; // a search from earlier already found nothing to the end
  const s = scan.s;
  let j = from;
  while (j < s.length) {
    const ch = s[j]!;
    if (ch === "\\") {
      j += 2;
      continue;
    }
    if (ch === "`") {
      const run = runLength(s, j, "`");
      const close = scan.backticks(j + run, run);
      j = close === -1 ? j + run : close + run;
      continue;
    }
    if (ch !== c) {
      j++;
      continue;
    }
    const run = runLength(s, j, c);
    const closes = j > from && !isSpace(s[j - 1]) && !(c === "_" && isWordChar(s[j + run]));
    if (closes && run === n) return j;
    if (closes && run === 3 && n < 3) return j + 3 - n;
    j += run;
  }
  scan.fail(key, from);
  return -1;
}

interface ParsedLink {
  label: string;
  url: string;
  /** Index just after the closing parenthesis. */
  end: number;
}

/** `[label](url "title")` starting at the "[" at `start`. */
function parseLink(scan: Scan, start: number): ParsedLink | undefined {
  const s = scan.s;
  const close = scan.partner(start);
  if (close === -1 || s[close + 1] !== "(") return undefined;
  const label = s.slice(start + 1, close);
  let k = close + 2;
  while (s[k] === " ") k++;
  let url: string;
  if (s[k] === "<") {
    const end = scan.find(">", k);
    if (end === -1) return undefined;
    url = s.slice(k + 1, end);
    k = end + 1;
  } else {
    // The URL ends at the ")" that closes the link's "(", or at whitespace (a title may follow).
    const paren = scan.partner(close + 1);
    const space = scan.nextSpace(k);
    const end = paren === -1 ? space : Math.min(paren, space);
    url = s.slice(k, end);
    k = end;
  }
  while (s[k] === " ") k++;
  const quote = s[k];
  if (quote === '"' || quote === "'") {
    const end = scan.find(quote, k + 1);
    if (end === -1) return undefined;
    k = end + 1;
    while (s[k] === " ") k++;
  }
  if (s[k] !== ")") return undefined;
  return { label, url: url.replace(/\\([!-/:-@[-`{-~])/g, "$1"), end: k + 1 };
}

/**
 * Lookups over one string that a naive parser would repeat from every delimiter (quadratic on a long line of
 * "[" or "*"): bracket partners found in one pass, and searches that remember where they already failed.
 */
class Scan {
  readonly s: string;
  #partners: Int32Array | undefined;
  #spaces: Int32Array | undefined;
  readonly #failed = new Map<string, number>();
  readonly #found = new Map<string, { from: number; at: number }>();

  constructor(s: string) {
    this.s = s;
  }

  /** The matching "]" of the "[" at i, or ")" of "(" (escapes skipped); -1 when unmatched. */
  partner(i: number): number {
    if (!this.#partners) {
      const s = this.s;
      const partners = new Int32Array(s.length).fill(-1);
      const open: Record<string, number[]> = { "[": [], "(": [] };
      for (let j = 0; j < s.length; j++) {
        const ch = s[j]!;
        if (ch === "\\") j++;
        else if (ch === "[" || ch === "(") open[ch]!.push(j);
        else if (ch === "]" || ch === ")") {
          const from = open[ch === "]" ? "[" : "("]!.pop();
          if (from !== undefined) partners[from] = j;
        }
      }
      this.#partners = partners;
    }
    return this.#partners[i] ?? -1;
  }

  /** The first whitespace at or after i (or the end). */
  nextSpace(i: number): number {
    if (!this.#spaces) {
      const s = this.s;
      const spaces = new Int32Array(s.length + 1);
      spaces[s.length] = s.length;
      for (let j = s.length - 1; j >= 0; j--) spaces[j] = isSpace(s[j]) ? j : spaces[j + 1]!;
      this.#spaces = spaces;
    }
    return this.#spaces[Math.min(i, this.s.length)]!;
  }

  /** indexOf, remembering its last answer (every start between the last start and that answer gets it too). */
  find(text: string, from: number): number {
    const last = this.#found.get(text);
    if (last && from >= last.from && (last.at === -1 || from <= last.at)) return last.at;
    const at = this.s.indexOf(text, from);
    this.#found.set(text, { from, at });
    return at;
  }

  /** The next run of exactly n backticks at or after `from`, or -1. */
  backticks(from: number, n: number): number {
    const key = `\`${n}`;
    if (this.failedFrom(key) <= from) return -1;
    const s = this.s;
    for (let j = s.indexOf("`", from); j !== -1; j = s.indexOf("`", j)) {
      const run = runLength(s, j, "`");
      if (run === n) return j;
      j += run;
    }
    this.fail(key, from);
    return -1;
  }

  failedFrom(key: string): number {
    return this.#failed.get(key) ?? Number.POSITIVE_INFINITY;
  }

  fail(key: string, from: number): void {
    this.#failed.set(key, Math.min(from, this.failedFrom(key)));
  }
}

const isSpace = (ch: string | undefined) => ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\f" || ch === "\v";

function anchor(doc: Document, href: string, text: string): HTMLAnchorElement {
  const a = doc.createElement("a");
  a.setAttribute("href", href);
  a.setAttribute("target", "_blank");
  a.setAttribute("rel", "noopener noreferrer nofollow");
  if (text) a.textContent = text;
  return a;
}

function runLength(s: string, i: number, c: string): number {
  let n = 0;
  while (s[i + n] === c) n++;
  return n;
}

function count(s: string, c: string): number {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}
