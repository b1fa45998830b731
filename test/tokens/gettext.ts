// Real text in many scripts: translated UI messages from Debian's gettext catalogues, in
// test/fixtures/tokens/gettext.json (built by build-gettext.mjs there; sources and licences in SOURCES.md).
//
// Groups, each measured on its own:
//   one per script: Han (Simplified), Han (Traditional), Japanese, Hangul, Cyrillic, Greek, Arabic, Devanagari, ...
//   "<CJK script>, spaced": the same CJK messages with a space between every two characters ("使 用 者 帳 號"), as
//     some people type; Latin words, numbers and %s stay whole
//   "mixed": Chinese, Japanese and Korean strings next to their English originals and numbers
//   "Latin, no diacritics": messages of Latin-script languages (German, Finnish...) without a single non-ASCII
//     letter: to a character-class estimator they are English, and they are reported apart from "Latin"
//
// Held-out split: by the parity of the FNV-1a hash of each message (a spaced message goes with the one it is made
// from). Tune on "fit", report and test on "test".

import { readFileSync } from "node:fs";
import { hash, type Split } from "./corpus.ts";

export interface GettextMessage {
  group: string;
  lang: string;
  text: string;
  split: Split;
}

interface Fixture {
  languages: { lang: string; script: string; messages: string[] }[];
  mixed: string[];
}

const FIXTURE = new URL("../fixtures/tokens/gettext.json", import.meta.url);
const CJK_SCRIPTS = ["Han (Simplified)", "Han (Traditional)", "Japanese", "Hangul"];

// Characters written without spaces between them: Han, kana, Hangul, CJK and full-width punctuation.
const CJK = /[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/u;

/** "使用者帳號。" → "使 用 者 帳 號 。": a space between two non-space characters when either is CJK. */
export function spaceOut(text: string): string {
  let out = "";
  let prev = "";
  for (const ch of text) {
    if (prev && !/\s/u.test(prev) && !/\s/u.test(ch) && (CJK.test(prev) || CJK.test(ch))) out += " ";
    out += ch;
    prev = ch;
  }
  return out;
}

const NON_ASCII_LETTER = /(?![a-zA-Z])\p{L}/u;

const splitOf = (text: string): Split => (hash(text) % 2 === 0 ? "fit" : "test");

/** The gettext corpus: every group, in a deterministic order. */
export function loadGettext(split: Split | "all" = "test"): GettextMessage[] {
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as Fixture;
  const out: GettextMessage[] = [];
  const push = (group: string, lang: string, text: string, s: Split) => {
    if (split === "all" || split === s) out.push({ group, lang, text, split: s });
  };
  for (const { lang, script, messages } of fixture.languages) {
    for (const text of messages) {
      const group = script === "Latin" && !NON_ASCII_LETTER.test(text) ? "Latin, no diacritics" : script;
      push(group, lang, text, splitOf(text));
    }
  }
  for (const { lang, script, messages } of fixture.languages) {
    if (!CJK_SCRIPTS.includes(script)) continue;
    for (const text of messages) push(`${script}, spaced`, lang, spaceOut(text), splitOf(text));
  }
  for (const text of fixture.mixed) push("mixed", "zh/ja/ko", text, splitOf(text));
  return out;
}
