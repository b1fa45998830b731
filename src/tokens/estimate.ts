// A fast, dependency-free estimate of how many tokens the Llama 3 tokenizer (128K BPE; Llama 3.x, including 3.2
// Vision) makes of a text: content only, no chat template or begin-of-text tokens.
//
// Why this shape: Llama 3 first splits text with a regex into pre-tokens (a word with its leading space or single
// punctuation char, digit groups of up to 3, punctuation runs with their trailing line breaks, whitespace runs),
// then runs BPE inside each pre-token. So one pass with charCodeAt walks the same runs and prices each from its
// class and length, with no vocabulary: an English word after a space is ~1 token until it gets long; camelCase
// parts, identifiers glued to punctuation or digits and the words of non-English Latin text cost more; other
// scripts, CJK, emoji and symbols cost a fixed amount per character, and a CJK or Hangul word a little more than its
// characters, a lone character more still (Chinese typed with spaces, "使 用 者", is ~1.4 tokens a character,
// "使用者" ~0.9). A few cheap signals then adjust a whole text by its language, from letters only some languages use:
// Lithuanian ė į ų, Latvian ā ē ī, Hungarian ő ű and Azerbaijani ə are dear; Cyrillic words are cheapest in Russian
// (ы э ё), then Ukrainian (і ї є ґ), then Bulgarian (none of those), dearest with letters beyond those (Serbian ј љ,
// Belarusian ў, Tajik, Kazakh...) or with ы or і but no и (Belarusian); Simplified Chinese is cheaper than
// Traditional; letters with few vowels are base64 or hashes, not words.
//
// Fitted on real text, counted with llama3-tokenizer-js: READMEs, code, JSON and localized strings shipped in
// node_modules, and Debian's translated UI messages in 37 languages (test/fixtures/tokens/gettext.json), on one half
// of each, then checked on the other half (test/tokens/). The fit asks that at most 2% of any script's messages in
// its half be under-counted by more than 10%, then for the smallest error: under-counting overflows a context
// window, over-counting a little does not. So the estimate is a few percent high on English prose, code and JSON,
// and 5-20% high on other languages (their tokens vary with the vocabulary, which this cannot see). Emoji and
// symbol weights were measured by encoding each character alone.

// Non-ASCII BMP characters outside U+4E00..U+9FFF by range: [start, weight] pairs in ascending order. A weight > 0
// is a letter (it joins words) costing that many tokens; < 0 is a symbol (joins punctuation runs) costing -weight.
// The weights of the scripts tested below by value (LAT, CYR, ARAB, HAN, KANA, HANG) must differ from all others.
const LAT = 0.76; // Latin-1/Extended letters, Greek
const CYR = 0.37;
const ARAB = 0.51;
const HAN = 0.92;
const KANA = 0.57;
const HANG = 0.64;
const OTH = 2.02; // scripts with few tokens of their own: Armenian, Khmer, Tibetan, Ethiopic...
const RANGES = [
  0x80, -1, 0xc0, LAT, 0x400, CYR, 0x530, OTH, 0x590, 1.19, 0x600, ARAB, 0x900, 0.66, 0x980, 1.42,
  0xa00, 1.98, 0xb80, 1.51, 0xc00, 1.96, 0xe00, 0.55, 0xe80, OTH, 0x1e00, LAT,
  0x2000, -1, 0x2070, -2.4, 0x2500, -0.5, 0x25a0, -2.4, 0x2600, -2.15, 0x2e80, HAN, 0x3000, -1,
  0x3040, KANA, 0x3100, HAN, 0xa000, OTH, 0xac00, HANG, 0xe000, -3, 0xf900, HAN, 0xfe00, -1,
];

// A word's ASCII letters come in subwords (split at camelCase humps). Each costs BASE + LONG per letter past FREE,
// by what precedes it: 0 a space, 1 a punctuation char BPE merges with it, 2 nothing (line start, a punctuation
// run), 3 a lower-to-upper hump, 4 a punctuation char that stays a token of its own.
const BASE = [0.926, 1.006, 1.062, 0.674, 2.242];
const LONG = [0.319, 0.092, 0.288, 0, 0];
const FREE = [8, 4, 4, 99, 4];
const MERGING = "_.(-/<['\\";
// k, w, y, z, j, v: letters English and the Romance languages use little, Polish, Czech, Finnish, Turkish... a lot.
const RARE = 0x3600600;
// Text in Latin letters with diacritics, by language: [per accented letter, per ASCII letter past a subword's third]
// for Lithuanian, Latvian, Hungarian and Azerbaijani (DEAR), which Llama 3 knows less, then for the others.
const LATIN = [0.68, 0.29, -0.31, 0.23];
const DEAR = "ėįųūāēīļņķģőűə";
// Cyrillic text, per word, by language: letters beyond Russian's and Ukrainian's (Serbian, Macedonian, Belarusian,
// Tajik, Kazakh...), Ukrainian (і ї є ґ), Russian (ы э ё), none of those (Bulgarian...).
const CYRILLIC = [1.25, 0.28, -0.18, 0.69];
const RUSSIAN_UKRAINIAN = "ыэёіїєґ";

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
  return cp >= 0x1f000 && cp < 0x1fb00 ? -3 : 3; // emoji; other astral characters (𝐛𝐨𝐥𝐝, 𠀀) are letters
}

/** Cost of a subword of `run` ASCII letters in context `kind`; one starting with a capital costs a little more. */
const subword = (run: number, kind: number, capital: boolean) =>
  BASE[kind]! + (run > FREE[kind]! ? (run - FREE[kind]!) * LONG[kind]! : 0) + (capital ? 0.127 : 0);

const isLetter = (c: number, d: number) => ((c | 32) >= 97 && (c | 32) <= 122) || (c > 127 && weight(c, d) > 0);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/**
 * Estimates the number of Llama 3 tokens in `text` (no special tokens). Pure and deterministic; a few percent high
 * on English and code, 5-20% high on other languages, rarely more than 10% low. For exact counts see
 * `countTokensLlama3` (edgechat/tokenizer/llama3).
 */
export function estimateTokens(text: string): number {
  const len = text.length;
  let n = 0;
  let i = 0;
  let c = 0;
  let after = 2; // what precedes the next word, as indexed in BASE
  let letters = 0; // ASCII letters
  let vowels = 0;
  let subwords = 0;
  let long = 0; // ASCII letters past the third of each subword
  let rare = 0; // k, w, y, z, j, v
  let latin = 0; // accented Latin letters
  let dear = 0; // letters of languages Llama 3 knows less (DEAR)
  let han = 0;
  let simplified = 0;
  let cyrillic = 0;
  let cyrillicWords = 0;
  let russian = 0; // ы, э, ё
  let ukrainian = 0; // і, ї, є, ґ
  let otherCyrillic = 0; // ў ђ ј љ њ ћ џ and the letters of the languages of Central Asia...
  let i8 = 0; // и: Russian, Ukrainian and Bulgarian have it, Belarusian does not
  let arabic = 0;
  let otherArabic = 0; // letters beyond Arabic's and Persian's: Urdu, Kurdish, Pashto
  while (i < len) {
    c = text.charCodeAt(i);
    if (isLetter(c, text.charCodeAt(i + 1))) {
      let run = 0; // ASCII letters of the current subword
      let caps = 0; // trailing capitals in it
      let upper = false; // it starts with a capital
      let lower = false; // its last letter is lower case
      let kind = after;
      let first = 0; // the weight of the word's first non-ASCII letter
      let others = 0; // non-ASCII letters in the word
      let cyrillicWord = false;
      for (; i < len; i++) {
        c = text.charCodeAt(i);
        if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
          const low = c >= 97;
          // A subword ends before a capital that follows a lower-case letter ("get|Element"), and before the last
          // of several capitals followed by a lower-case letter ("LRU|Cache").
          const cut = low ? (caps > 1 && caps === run ? run - 1 : 0) : lower ? run : 0;
          if (cut) {
            n += subword(cut, kind, upper);
            subwords++;
            if (cut > 3) long += cut - 3;
            letters += cut;
            run -= cut;
            kind = 3;
          }
          if (!run) upper = !low;
          lower = low;
          caps = low ? 0 : caps + 1;
          vowels += (0x104111 >> ((c | 32) - 97)) & 1; // a, e, i, o, u
          rare += (RARE >> ((c | 32) - 97)) & 1;
          run++;
        } else if (c < 128) {
          break;
        } else {
          const w = weight(c, text.charCodeAt(i + 1));
          if (w <= 0) break;
          n += w;
          first ||= w;
          others++;
          if (w === LAT) {
            latin++;
            if (c > 0x100 && DEAR.includes(text[i]!)) dear++;
          } else if (w === CYR) {
            cyrillic++;
            cyrillicWord = true;
            if ((c | 32) === 0x438) i8++;
            if (c > 0x44a) {
              const mark = RUSSIAN_UKRAINIAN.indexOf(text[i]!);
              if (mark >= 0) mark < 3 ? russian++ : ukrainian++;
              else if (c > 0x44f) otherCyrillic++;
            }
          } else if (w === ARAB) {
            arabic++;
            if (c > 0x678 && !"\u067e\u0686\u0698\u06a9\u06af\u06cc".includes(text[i]!)) otherArabic++;
          } else if (w === HAN) {
            han++;
            // Simplified-only radicals (讠, 页, 纟): a text using them is Simplified Chinese.
            if ((c >= 0x8ba0 && c < 0x8c40) || (c >= 0x9875 && c < 0x98a3) || (c >= 0x7e9f && c < 0x7f00)) {
              simplified++;
            }
          }
          if (c >= 0xd800 && c < 0xdc00) i++; // the low half of a surrogate pair
        }
      }
      if (run) {
        n += subword(run, kind, upper);
        subwords++;
        letters += run;
        if (run > 3) long += run - 3;
      }
      // A CJK or Hangul word costs a little more than its characters; a lone character (Chinese typed "使 用 者") more
      // still, a lone Hangul syllable less.
      if (first === HAN || first === KANA) n += 0.54 + (others === 1 ? 0.13 : 0);
      else if (first === HANG) n += 0.65 + (others === 1 ? -0.16 : 0);
      if (cyrillicWord) cyrillicWords++;
      after = 2;
    } else if (isDigit(c)) {
      const start = i;
      while (++i < len && isDigit((c = text.charCodeAt(i))));
      n += Math.ceil((i - start) / 3) * 1.034;
      // Digits glued to letters: hashes, base64, versions, ids.
      if (isLetter(text.charCodeAt(start - 1), 0)) n += 0.13;
      if (isLetter(c, 0)) n += 0.13;
      after = 2;
    } else if (isSpace(c)) {
      // "\s*[\r\n]+" is one token; then spaces: all but the last are one token, the last joins the next word or
      // punctuation (not digits, not the end of the text); a tab joins words but rarely punctuation.
      const start = i;
      let spaces = 0;
      let newline = false;
      for (; i < len && isSpace((c = text.charCodeAt(i))); i++) {
        if (c === 10 || c === 13) {
          newline = true;
          spaces = 0;
        } else spaces++;
      }
      if (newline) n += 1.19;
      if (i - start > 32) n += (i - start - 32) / 32; // one token holds up to ~32 line breaks or ~100 spaces
      after = 2;
      if (spaces) {
        if (i >= len || isDigit(c)) n += 1.183;
        else {
          if (spaces > 1) n += 0.938;
          if (text.charCodeAt(i - 1) !== 32 && !isLetter(c, 0)) n += 0.592; // "\t}" is two tokens, "\tif" one
          after = 0;
        }
      }
    } else {
      // Punctuation and symbols: a stretch of ASCII punctuation is one token (BPE knows most pairs and repeats),
      // plus a little per change of character past the second; other symbols cost their weight each.
      const start = i;
      let ascii = 0;
      let changes = 0;
      let last = 0;
      for (; i < len; i++) {
        c = text.charCodeAt(i);
        if (c < 128) {
          if (isLetter(c, 0) || isDigit(c) || isSpace(c)) break;
          if (!ascii) {
            n++;
            changes = 0;
          } else if (c !== last && ++changes > 2) n += 0.654; // regex-like soup costs more than "});" or "----"
          last = c;
          if (++ascii > 16) n += 0.125; // long runs: "!!!!!!!!" is one token, "--------" up to 64 are one
        } else {
          const w = weight(c, text.charCodeAt(i + 1));
          if (w > 0) break;
          n -= w;
          ascii = 0;
          if (c >= 0xd800 && c < 0xdc00 && w !== -1) i++;
        }
      }
      const spaced = after === 0;
      after = 2;
      // One punctuation char right before a word is part of that word's pre-token, unless a space came before it.
      if (i - start === 1 && ascii === 1 && !spaced && i < len && isLetter(c, text.charCodeAt(i + 1))) {
        if (MERGING.includes(String.fromCharCode(last))) {
          n--;
          after = 1;
        } else after = 4;
      }
      // Line breaks right after punctuation belong to its pre-token (";\n" is one token).
      while (i < len && ((c = text.charCodeAt(i)) === 10 || c === 13)) i++;
    }
  }
  // Words of a text with accented Latin letters are non-English: they split into more pieces past their third
  // letter, and more still in languages that use k, w, y, z, j, v more than English and the Romance languages (about
  // 5% of their letters) do; how many more depends on the language (LATIN).
  const nonEnglish = Math.min(1, (latin * 100) / (letters + latin + 1));
  const rareShare = Math.max(0, rare / (letters + 1) - 0.05);
  n += nonEnglish * rareShare * (2.32 * subwords + 1.06 * long);
  if (latin) {
    const j = dear * 30 > latin ? 0 : 2;
    n += LATIN[j]! * latin + nonEnglish * LATIN[j + 1]! * long;
  }
  if (cyrillic) {
    const k = cyrillic / 100; // a language's marks are at least 1% of the text's Cyrillic letters
    const r = russian > k;
    const u = ukrainian > k;
    n += cyrillicWords * CYRILLIC[otherCyrillic > k || ((r || u) && i8 < k) ? 0 : u ? 1 : r ? 2 : 3]!;
  }
  n -= 0.18 * Math.min(han, simplified * 60); // Simplified Chinese: Han characters are cheaper
  n += 0.42 * Math.min(arabic, otherArabic * 10);
  // Few vowels: not words but base64, hashes or random strings, which BPE cuts into pieces of 2-3 letters.
  // (English text has 35-40% vowels among its letters, base64 and random letters about 19%; most accented Latin
  // letters are vowels.)
  n += Math.min(0.35 * letters, Math.max(0, 0.25 * letters - vowels - latin) * 5.83);
  return n > 0 ? Math.round(n * 1.01) || 1 : 0;
}
