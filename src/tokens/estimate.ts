// A fast, table-free estimate of how many tokens the Llama 3 tokenizer (128K BPE, Llama 3.x incl. 3.2 Vision) makes of
// a text: content only, no chat template or begin-of-text tokens.
//
// Why this shape: Llama 3 first splits text with a regex into pre-tokens (words with their leading space or single
// punctuation char, digit groups of up to 3, punctuation runs with trailing line breaks, whitespace runs), then runs
// BPE inside each pre-token. So one pass with charCodeAt walks the same runs and prices each from its class and
// length: an English word after a space is ~1 token until it gets long; camelCase parts, identifiers glued to
// punctuation and the words of non-English Latin text cost more; other scripts, CJK, emoji and symbols cost a
// fitted amount per character. Simplified Chinese (recognised by a few simplified-only radical ranges) is cheaper
// than Traditional; a message with accented Latin letters is taken as non-English and its words cost more.
//
// Fitted on: real text shipped in node_modules (README/docs prose, .js/.ts code, .json files, TypeScript's
// localized diagnostics and zod/yargs locales for CJK and other languages, emoji-bearing lines), cut into chat-sized
// messages and counted with llama3-tokenizer-js; least squares on the relative error per message, with
// under-counts weighted double, fitted on one half of the files and checked on the other (see test/tokens/).
// A 1% margin is added on top: under-counting overflows a context window, over-counting a little does not.

// Non-ASCII BMP characters outside U+4E00..U+9FFF by range: [start, weight] pairs in ascending order. A weight > 0
// is a letter (it joins words) costing that many tokens; < 0 is a symbol (joins punctuation runs) costing -weight.
const LAT = 0.501; // Latin-1/Extended letters, Greek, Thai
const HAN = 0.964;
const OTH = 1.93; // scripts with few tokens of their own: Armenian, Georgian, Khmer, Tibetan, Syriac...
const RANGES = [
  0x80, -1, 0xc0, LAT, 0x400, 0.321, 0x530, OTH, 0x590, 1.17, 0x600, 0.804, 0x700, OTH, 0x900, 0.663, 0x980, 1.6,
  0xe00, LAT, 0xe80, OTH, 0x1e00, LAT, 0x2000, -1, 0x2070, -2.4, 0x2500, -0.5, 0x25a0, -2.4, 0x2600, -2.15,
  0x2c00, OTH, 0x2e80, HAN, 0x3000, -1, 0x3040, 0.537, 0x3100, HAN, 0xa000, OTH, 0xac00, 0.745, 0xd7b0, OTH,
  0xf900, HAN, 0xfb00, OTH, 0xfe00, -1, 0xfe70, OTH, 0xff00, -1,
];

// A word's ASCII letters come in subwords (split at camelCase humps). Each costs BASE + LONG per letter past FREE,
// by what precedes it: 0 a space, 1 a punctuation char BPE merges with it, 2 nothing (line start, a punctuation
// run), 3 a lower-to-upper hump, 4 a punctuation char that stays a token of its own.
const BASE = [0.91, 0.754, 1.325, 0.764, 2.464];
const LONG = [0.369, 0.189, 0.2, 0, 0.034];
const FREE = [8, 4, 4, 99, 4];
const MERGING = "_.(-/<['\\";

/** Token weight of the character at code unit c (d: the next code unit), as in RANGES. */
function weight(c: number, d: number): number {
  if (c >= 0x4e00 && c < 0xa000) return HAN;
  if (c < 0xd800 || c > 0xdfff) {
    let w = -1;
    for (let j = 0; j < RANGES.length && c >= RANGES[j]!; j += 2) w = RANGES[j + 1]!;
    return w;
  }
  if (c > 0xdbff || (d & 0xfc00) !== 0xdc00) return -1; // lone surrogate: encoded as U+FFFD
  const cp = ((c - 0xd800) << 10) + d - 0xdc00 + 0x10000;
  if ((cp >= 0x1f600 && cp < 0x1f640) || (cp >= 0x1f480 && cp < 0x1f4c0)) return -2;
  return cp >= 0x1f000 && cp < 0x1fb00 ? -3 : OTH; // emoji; other astral characters are letters
}

/** Cost of a subword of `run` ASCII letters in context `kind`; one starting with a capital costs a little more. */
const subword = (run: number, kind: number, capital: boolean) =>
  BASE[kind]! + (run > FREE[kind]! ? (run - FREE[kind]!) * LONG[kind]! : 0) + (capital ? 0.2 : 0);

const isLetter = (c: number, d: number) => ((c | 32) >= 97 && (c | 32) <= 122) || (c > 127 && weight(c, d) > 0);

/**
 * Estimates the number of Llama 3 tokens in `text` (no special tokens). Pure and deterministic; a few percent high
 * on average, rarely more than 10% low. For exact counts see `countTokensLlama3` (edgechat/tokenizer/llama3).
 */
export function estimateTokens(text: string): number {
  const len = text.length;
  let n = 0;
  let i = 0;
  let c = 0;
  let after = 2; // what precedes the next word, as indexed in BASE
  let letters = 0; // ASCII letters
  let subwords = 0;
  let latin = 0; // accented Latin (and Greek, Thai) letters
  let han = 0;
  let simplified = 0;
  while (i < len) {
    c = text.charCodeAt(i);
    if (isLetter(c, text.charCodeAt(i + 1))) {
      let run = 0;
      let upper = false;
      let lower = false;
      let kind = after;
      for (; i < len; i++) {
        c = text.charCodeAt(i);
        if (c >= 97 && c <= 122) {
          if (!run) upper = false;
          lower = true;
          run++;
        } else if (c >= 65 && c <= 90) {
          if (lower) {
            n += subword(run, kind, upper);
            subwords++;
            letters += run;
            run = 0;
            kind = 3;
          }
          if (!run) upper = true;
          lower = false;
          run++;
        } else if (c < 128) {
          break;
        } else {
          const w = weight(c, text.charCodeAt(i + 1));
          if (w <= 0) break;
          n += w;
          if (w === LAT) latin++;
          else if (w === HAN) {
            han++;
            // Simplified-only radicals (讠, 页, 纟, 车, 门): a text using them is Simplified Chinese.
            if ((c >= 0x8ba0 && c < 0x8c40) || (c >= 0x9875 && c < 0x98a3) || (c >= 0x7e9f && c < 0x7f00) ||
              (c >= 0x8f66 && c < 0x8fa0) || (c >= 0x95e8 && c < 0x9620)) simplified++;
          }
          if (c >= 0xd800 && c < 0xdc00) i++; // the low half of a surrogate pair
        }
      }
      if (run) {
        n += subword(run, kind, upper);
        subwords++;
        letters += run;
      }
      after = 2;
    } else if (c >= 48 && c <= 57) {
      const start = i;
      while (++i < len && (c = text.charCodeAt(i)) >= 48 && c <= 57);
      n += Math.ceil((i - start) / 3) * 1.13;
      after = 2;
    } else if (c === 32 || (c >= 9 && c <= 13)) {
      // "\s*[\r\n]+" is one token; then spaces: all but the last are one token, the last joins the next word or
      // punctuation (not digits, not the end of the text); a tab does not merge as well as a space.
      let spaces = 0;
      let newline = false;
      for (; i < len && ((c = text.charCodeAt(i)) === 32 || (c >= 9 && c <= 13)); i++) {
        if (c === 10 || c === 13) {
          newline = true;
          spaces = 0;
        } else spaces++;
      }
      if (newline) n += 1.147;
      after = 2;
      if (spaces) {
        if (i >= len || (c >= 48 && c <= 57)) n += 1;
        else {
          if (spaces > 1) n += 0.896;
          if (text.charCodeAt(i - 1) !== 32) n += 0.451;
          after = 0;
        }
      }
    } else {
      // Punctuation and symbols: each stretch of ASCII punctuation is one token (BPE knows most pairs and repeats);
      // other symbols cost their weight each.
      let chars = 0;
      let ascii = 0;
      for (; i < len; i++) {
        c = text.charCodeAt(i);
        if (c < 128) {
          if (((c | 32) >= 97 && (c | 32) <= 122) || (c >= 48 && c <= 57) || c === 32 || (c >= 9 && c <= 13)) break;
          if (!ascii) n++;
          ascii++;
        } else {
          const w = weight(c, text.charCodeAt(i + 1));
          if (w > 0) break;
          n -= w;
          ascii = 0;
          if (c >= 0xd800 && c < 0xdc00 && w !== -1) i++;
        }
        chars++;
      }
      const last = text.charCodeAt(i - 1);
      const spaced = after === 0;
      after = 2;
      // One punctuation char right before a word is part of that word's pre-token, unless a space came before it.
      if (chars === 1 && ascii === 1 && !spaced && i < len && isLetter(c, text.charCodeAt(i + 1))) {
        if (MERGING.includes(String.fromCharCode(last))) {
          n--;
          after = 1;
        } else after = 4;
      }
      // Line breaks right after punctuation belong to its pre-token (";\n" is one token).
      while (i < len && ((c = text.charCodeAt(i)) === 10 || c === 13)) i++;
    }
  }
  // Words of a text with accented Latin letters are non-English: they split into more pieces.
  n += 0.279 * subwords * Math.min(1, (latin * 100) / (letters + latin + 1));
  if (han) n -= 0.22 * han * Math.min(1, (simplified * 50) / han);
  return n > 0 ? Math.max(1, Math.round(n * 1.01)) : 0;
}
