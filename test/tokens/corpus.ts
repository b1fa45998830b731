// A corpus of REAL text, by kind, gathered from what ships in node_modules, cut into chat-sized messages.
//
// Used to check (and to tune) the token estimator against the real Llama 3 tokenizer. Everything is deterministic:
// files are walked in sorted order, every choice after that is driven by an FNV-1a hash of the file path, and fixed
// caps bound how much text is read and kept, so a test run stays within a few seconds.
//
// Kinds:
//   prose  English paragraphs of README/docs .md/.mdx files (code blocks, tables, HTML and badge lines dropped)
//   code   .js/.mjs/.cjs/.ts/.mts/.cts files, ASCII, not minified
//   json   .json files, ASCII
//   cjk    Chinese/Japanese/Korean strings: the values of localized JSON files (TypeScript's diagnostics, yargs)
//          and CJK paragraphs of .md files
//   emoji  lines that contain emoji, from any text file (emojilib, node-emoji, zod's emoji tests, READMEs...)
//   mixed  whole files mixing scripts: ASCII keys/code/markup around CJK, Cyrillic, other scripts or emoji
//          (raw locale files, READMEs with emoji)
//   other  non-English, non-CJK natural language: strings of localized files (de, fr, ru, pl, ar, hi, th, ...)
//
// What node_modules holds changes with the dependencies (installing axe-core, for one, added its 22 locale files and
// a file of base64 hashes), so these numbers move with package-lock.json; test/fixtures/tokens/gettext.json
// (gettext.ts) is a fixed corpus.
//
// Held-out split: by file. Each file's text for a kind goes wholly to the "fit" or the "test" half, by the parity of
// its path's hash (copies of one text in one package, like x.js and x.cjs, count as one file). Tune on "fit",
// report on "test". Caps keep a run small and varied: at most maxCharsPerKind per kind and half, maxCharsPerFile
// from one file, maxMessagesPerDoc from each 8K-char segment of a file.

import { isAscii } from "node:buffer";
import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const KINDS = ["prose", "code", "json", "cjk", "emoji", "mixed", "other"] as const;
export type Kind = (typeof KINDS)[number];
export type Split = "fit" | "test";

export interface Message {
  kind: Kind;
  text: string;
  /** The node_modules-relative path of the file it comes from. */
  file: string;
  split: Split;
}

export interface CorpusOptions {
  /** node_modules directory to read (default: the project's). */
  root?: string;
  /** Which half to return (default "test"): "fit" for tuning, "test" for held-out reporting, "all" for both. */
  split?: Split | "all";
  /** Cap on the characters kept per kind and per half (default 300_000). */
  maxCharsPerKind?: number;
  /** Cap on messages taken from one segment of a document (default 6). */
  maxMessagesPerDoc?: number;
  /** Cap on the characters one file contributes to a kind and half (default maxCharsPerKind / 20), for variety. */
  maxCharsPerFile?: number;
  /** Message sizes are drawn log-uniformly from [minChars, maxChars] (default 200..4000). */
  minChars?: number;
  maxChars?: number;
}

const MAX_FILE_BYTES = 512 * 1024;
const SEGMENT = 8_000;
const CODE_EXT = /\.(?:[cm]?js|[cm]?ts)$/;
const TEXT_EXT = /\.(?:[cm]?js|[cm]?ts|json|mdx?|txt)$/;
const SKIP_DIRS = new Set([".bin", ".cache", ".vite", ".vite-temp", ".tmp"]);

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f]/gu;
const EMOJI = /[\u{1F000}-\u{1FAFF}\u2600-\u27BF\u2B00-\u2BFF]/u;
const EMOJI_G = new RegExp(EMOJI.source, "gu");
const LETTER = /\p{L}/gu;

/** FNV-1a, 32 bits. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function nonAsciiCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) n++;
  return n;
}

function asciiLetterCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (c >= 0x61 && c <= 0x7a) n++;
  }
  return n;
}

function count(re: RegExp, s: string): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(s)) n++;
  return n;
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (SKIP_DIRS.has(entry.name)) continue;
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`, relPath);
      else if (entry.isFile() && TEXT_EXT.test(entry.name)) out.push(relPath);
    }
  };
  walk(root, "");
  return out;
}

/** The string values of a JSON document, in document order. */
function jsonStrings(text: string): string[] {
  const out: string[] = [];
  const visit = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  try {
    visit(JSON.parse(text));
  } catch {
    return [];
  }
  return out;
}

/** String literals of a JS/TS source file (a plain scan, good enough for locale files). */
function codeStrings(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}

/** English prose from markdown: paragraphs outside code blocks, without tables, HTML, badges or front matter. */
function markdownParagraphs(text: string): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  let fenced = false;
  let frontMatter = text.startsWith("---\n");
  const flush = () => {
    if (current.length) paragraphs.push(current.join("\n"));
    current = [];
  };
  for (const [i, line] of text.split("\n").entries()) {
    if (frontMatter) {
      if (i > 0 && line.trim() === "---") frontMatter = false;
      continue;
    }
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      flush();
      continue;
    }
    if (fenced) continue;
    const t = line.trim();
    if (t === "" || /^(<|\||import |export |\[!\[|!\[|\[[^\]]*\]:|-{3,}|={3,})/.test(t)) {
      flush();
      continue;
    }
    current.push(line.trimEnd());
  }
  flush();
  return paragraphs;
}

function isEnglishProse(p: string): boolean {
  if (p.length < 40) return false;
  if (nonAsciiCount(p) > p.length * 0.01) return false;
  // Mostly words: letters and spaces, not URLs or option tables.
  const letters = asciiLetterCount(p) + (p.split(" ").length - 1);
  return letters >= p.length * 0.8;
}

function looksMinified(text: string): boolean {
  const lines = text.split("\n");
  let longest = 0;
  for (const l of lines) longest = Math.max(longest, l.length);
  return longest > 600 || text.length / lines.length > 120;
}

interface Doc {
  kind: Kind;
  file: string;
  text: string;
}

/** Every kind of text one file offers. */
function extract(file: string, text: string): Doc[] {
  const docs: Doc[] = [];
  const add = (kind: Kind, t: string) => {
    if (t.trim().length >= 60) docs.push({ kind, file, text: t });
  };
  const name = file.slice(file.lastIndexOf("/") + 1).toLowerCase();
  const nonAscii = nonAsciiCount(text);
  const isJson = name.endsWith(".json");
  const isCode = CODE_EXT.test(name);
  const isMarkdown = /\.mdx?$/.test(name);

  if (nonAscii <= text.length * 0.002) {
    if (isCode && !name.includes(".min.") && !looksMinified(text)) add("code", text);
    if (isJson) add("json", text);
  }
  if (isMarkdown && !/^(license|changelog|history|code_of_conduct|security)/.test(name)) {
    add("prose", markdownParagraphs(text).filter(isEnglishProse).join("\n\n"));
    add("cjk", markdownParagraphs(text).filter((p) => count(CJK, p) > p.length * 0.3).join("\n\n"));
  }
  if (nonAscii > 0) {
    // Emoji-heavy: the lines that carry emoji, where they are at least one character in forty.
    const emojiLines = text.split("\n").filter((l) => EMOJI.test(l) && count(EMOJI_G, l) * 40 >= l.length);
    if (emojiLines.length >= 3) add("emoji", emojiLines.join("\n"));
  }
  if (nonAscii > text.length * 0.002 && (isJson || isCode)) {
    // Localized strings: natural language in another script.
    const strings = (isJson ? jsonStrings(text) : codeStrings(text)).filter((s) => /[^\x00-\x7f]/.test(s));
    const joined = strings.join("\n");
    const letters = count(LETTER, joined);
    if (letters > 0 && !EMOJI.test(joined)) {
      if (count(CJK, joined) > letters * 0.3) add("cjk", joined);
      else if (letters - asciiLetterCount(joined) > letters * 0.01) add("other", joined);
    }
  }
  if (nonAscii > text.length * 0.02 && asciiLetterCount(text) > text.length * 0.25) add("mixed", text);
  return docs;
}

/** Cuts text into messages of pseudo-random sizes, preferring line ends, then spaces; never splits a surrogate pair. */
function cut(text: string, seed: number, minChars: number, maxChars: number): string[] {
  let state = seed || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const out: string[] = [];
  let start = 0;
  while (text.length - start >= minChars) {
    const target = Math.round(minChars * Math.pow(maxChars / minChars, random()));
    let end = Math.min(text.length, start + target);
    if (end < text.length) {
      const window = text.slice(start + Math.floor(target / 2), end);
      const nl = window.lastIndexOf("\n");
      const sp = window.lastIndexOf(" ");
      const at = nl >= 0 ? nl + 1 : sp >= 0 ? sp + 1 : -1;
      if (at >= 0) end = start + Math.floor(target / 2) + at;
      const c = text.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff) end++;
    }
    const message = text.slice(start, end);
    if (message.trim().length >= minChars / 2) out.push(message);
    start = end;
  }
  return out;
}

/** Copies of one text in one package (x.js, x.cjs, x.d.ts, src/x.ts...) share a key: only the first is kept. */
function dedupeKey(kind: Kind, file: string): string {
  const nm = file.lastIndexOf("node_modules/");
  const inPkg = nm >= 0 ? file.slice(nm + 13) : file;
  const parts = inPkg.split("/");
  const pkg = parts[0]?.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? "");
  const name = (parts[parts.length - 1] ?? "").replace(/(\.d)?\.[cm]?[jt]s$/, "");
  return `${kind}:${pkg}:${parts[parts.length - 2] ?? ""}/${name}`;
}

/** A file's text for one kind: read and extracted already (files with non-ASCII text), or on demand (ASCII files). */
interface Source {
  kind: Kind;
  file: string;
  text: () => string | undefined;
}

let sourcesCache: { root: string; sources: Source[] } | undefined;

/**
 * Every (kind, file) pair the corpus may draw from, in sorted path order, copies removed. Files with non-ASCII bytes
 * (a few hundred) are decoded and classified now; plain-ASCII files (thousands of .js/.ts) only offer code, JSON or
 * prose by their extension and are decoded only if a message is actually taken from them.
 */
function allSources(root: string): Source[] {
  if (sourcesCache?.root === root) return sourcesCache.sources;
  const sources: Source[] = [];
  const seen = new Set<string>();
  const push = (kind: Kind, file: string, text: () => string | undefined) => {
    const key = dedupeKey(kind, file);
    if (seen.has(key)) return;
    seen.add(key);
    sources.push({ kind, file, text });
  };
  for (const file of listFiles(root)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(`${root}/${file}`);
    } catch {
      continue;
    }
    if (bytes.length < 64 || bytes.length > MAX_FILE_BYTES || bytes.includes(0)) continue;
    if (isAscii(bytes)) {
      const name = file.slice(file.lastIndexOf("/") + 1).toLowerCase();
      const kind: Kind | undefined = CODE_EXT.test(name)
        ? "code"
        : name.endsWith(".json")
          ? "json"
          : /\.mdx?$/.test(name)
            ? "prose"
            : undefined;
      if (kind) {
        push(kind, file, () => {
          const doc = extract(file, normalize(bytes.toString("latin1"))).find((d) => d.kind === kind);
          return doc?.text;
        });
      }
      continue;
    }
    for (const doc of extract(file, normalize(bytes.toString("utf8")))) push(doc.kind, file, () => doc.text);
  }
  sourcesCache = { root, sources };
  return sources;
}

const normalize = (text: string) => text.replace(/\r\n/g, "\n");

const DEFAULT_ROOT = fileURLToPath(new URL("../../node_modules", import.meta.url));

/** The corpus: messages by kind, in a deterministic order. */
export function loadCorpus(options: CorpusOptions = {}): Message[] {
  const root = options.root ?? DEFAULT_ROOT;
  const want = options.split ?? "test";
  const maxChars = options.maxCharsPerKind ?? 300_000;
  const perDoc = options.maxMessagesPerDoc ?? 6;
  const perFile = options.maxCharsPerFile ?? maxChars / 20;
  const minSize = options.minChars ?? 200;
  const maxSize = options.maxChars ?? 4000;

  const ordered = allSources(root)
    .map((source) => ({ source, key: hash(`${source.kind}:${source.file}`) }))
    .sort((a, b) => a.key - b.key || (a.source.file < b.source.file ? -1 : 1));

  const out: Message[] = [];
  for (const kind of KINDS) {
    const kept = { fit: 0, test: 0 };
    const full = (split: Split) => want !== "all" && want !== split ? true : kept[split] >= maxChars;
    for (const { source, key } of ordered) {
      if (source.kind !== kind) continue;
      if (full("fit") && full("test")) break;
      const text = source.text();
      if (!text) continue;
      const fromFile = { fit: 0, test: 0 };
      // A file goes wholly to one half, by the hash of its path; it is cut in segments so that its messages come
      // from all over it.
      for (let i = 0, start = 0; start < text.length; i++) {
        let end = Math.min(text.length, start + SEGMENT);
        if (end < text.length) {
          const nl = text.lastIndexOf("\n", end);
          if (nl > start) end = nl + 1;
        }
        const split: Split = key % 2 === 0 ? "fit" : "test";
        const segment = text.slice(start, end);
        start = end;
        if (full(split)) continue;
        const min = kind === "emoji" ? Math.min(minSize, 80) : minSize;
        for (const message of cut(segment, hash(`${key}#${i}`), min, maxSize).slice(0, perDoc)) {
          if (kept[split] >= maxChars || fromFile[split] >= perFile) break;
          out.push({ kind, text: message, file: source.file, split });
          kept[split] += message.length;
          fromFile[split] += message.length;
        }
      }
    }
  }
  return out;
}
