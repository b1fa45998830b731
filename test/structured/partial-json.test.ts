// The incremental JSON parser: after every delta its value is consistent with the final one (fuzzed over values,
// spellings and splits), end() agrees with JSON.parse, and malformed text fails at the first character that makes
// it certain. Its speed (O(new text) per push) is the benchmark's to show (test/bench/parts/json.mjs).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors/validation.ts";
import { PartialJSON } from "../../src/structured/partial-json.ts";
import { rng } from "../helpers/chunking.ts";

/**
 * Why `partial` is not a possible value so far of a document whose value is `final`; undefined when it is. Elements
 * before an array's last are complete, so they must be equal; values inside containers are never undefined.
 */
function inconsistency(partial: unknown, final: unknown, path = "$"): string | undefined {
  if (typeof final === "string") {
    if (typeof partial !== "string" || !final.startsWith(partial)) return `${path}: ${show(partial)} is not a prefix of ${show(final)}`;
    // A prefix by code units, but not half of a surrogate pair.
    const last = partial.charCodeAt(partial.length - 1);
    return last >= 0xd800 && last < 0xdc00 && (final.charCodeAt(partial.length) & 0xfc00) === 0xdc00 ? `${path}: ${show(partial)} ends in half a surrogate pair` : undefined;
  }
  if (final === null || typeof final !== "object") return Object.is(partial, final) ? undefined : `${path}: ${show(partial)} ≠ ${show(final)}`;
  if (Array.isArray(final)) {
    if (!Array.isArray(partial) || partial.length > final.length) return `${path}: ${show(partial)} is not a prefix of an array of ${final.length}`;
    for (let i = 0; i < partial.length; i++) {
      const problem = i < partial.length - 1 ? unequal(partial[i], final[i], `${path}[${i}]`) : inconsistency(partial[i], final[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (partial === null || typeof partial !== "object" || Array.isArray(partial) || Object.getPrototypeOf(partial) !== Object.prototype) return `${path}: ${show(partial)} is not an object`;
  for (const key of Object.keys(partial)) {
    if (!Object.hasOwn(final, key)) return `${path}: key ${show(key)} is not in the final value`;
    const problem = inconsistency((partial as Record<string, unknown>)[key], (final as Record<string, unknown>)[key], `${path}.${key}`);
    if (problem) return problem;
  }
  return undefined;
}

function unequal(a: unknown, b: unknown, path: string): string | undefined {
  return equal(a, b) ? undefined : `${path}: ${show(a)} is complete but ≠ ${show(b)}`;
}

/** Deep equality of JSON values (-0 is not 0); a fast one: the 20 KB documents check it on every character. */
function equal(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const show = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 80);

/** Push `deltas` one by one, checking the value after each against `final`; then end(). */
function streamThrough(deltas: readonly string[], final: unknown): unknown {
  const parser = new PartialJSON();
  let sent = "";
  for (const delta of deltas) {
    const value = parser.push(delta);
    sent += delta;
    expect(parser.value).toBe(value);
    const problem = value === undefined ? undefined : inconsistency(value, final);
    if (problem) throw new Error(`after ${JSON.stringify(sent.slice(-40))} (${sent.length} chars): ${problem}`);
  }
  return parser.end();
}

/** `text` cut at `cuts` (any numbers: taken modulo the length). */
function cutAt(text: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const cut of at) {
    out.push(text.slice(last, cut));
    last = cut;
  }
  out.push(text.slice(last));
  return out;
}

const chars = (text: string) => text.split("");

// --- spelling a value many ways ---

interface Spelling {
  /** Whitespace between tokens ("" for none). */
  space: () => string;
  /** 0–1: how often a character is written as an escape it does not need (\u0041, \/, a surrogate pair as two \u). */
  escapes: number;
  random: () => number;
}

/** JSON text for `value`, spelt with the whitespace, escapes and number forms of `how` (JSON.parse gives `value` back). */
function spell(value: unknown, how: Spelling): string {
  const s = how.space;
  if (typeof value === "string") return quote(value, how);
  if (typeof value === "number") return number(value, how.random);
  if (value === null || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${s()}${value.map((v) => spell(v, how)).join(`${s()},${s()}`)}${s()}]`;
  const entries = Object.entries(value as object).map(([k, v]) => `${quote(k, how)}${s()}:${s()}${spell(v, how)}`);
  return `{${s()}${entries.join(`${s()},${s()}`)}${s()}}`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "/": "\\/" };

function quote(text: string, how: Spelling): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = text.charCodeAt(i);
    // Only '"', "\\" and control characters must be escaped; a surrogate, paired or not, may be written raw.
    if (ch === '"' || ch === "\\" || code < 0x20 || how.random() < how.escapes) {
      const short = SHORT_ESCAPES[ch];
      out += short && how.random() < 0.7 ? short : `\\u${code.toString(16).padStart(4, "0")}`;
      // Hex digits in either case.
      if (!short && how.random() < 0.5) out = out.slice(0, -4) + out.slice(-4).toUpperCase();
    } else out += ch;
  }
  return `${out}"`;
}

/** A number as JSON may spell it: 12, -0.5, 1.5e+21, 15E-1, 120e-1... */
function number(value: number, random: () => number): string {
  const r = random();
  if (r < 0.5) return String(value);
  const exp = value.toExponential(); // shortest round-trip digits, e.g. "1.5e+21"
  if (r < 0.7) return exp;
  if (r < 0.85) return exp.replace("e", "E").replace("+", "");
  return exp.replace(/^(-?)(\d)\.?(\d*)e([+-]\d+)$/, (_, sign: string, d: string, rest: string, e: string) => `${sign}${d}${rest}e${Number(e) - rest.length}`);
}

const WHITESPACE = [" ", "\n", "\t", "\r\n", "  "];

const spellings = fc.record({
  seed: fc.integer(),
  space: fc.constantFrom(0, 0.2, 0.7),
  escapes: fc.constantFrom(0, 0.1, 0.5),
});

function spelling({ seed, space, escapes }: { seed: number; space: number; escapes: number }): Spelling {
  const random = rng(seed);
  return { random, escapes, space: () => (random() < space ? WHITESPACE[Math.floor(random() * WHITESPACE.length)]! : "") };
}

// Strings with what a model writes: escapes, every plane of unicode (surrogate pairs), lone surrogates.
const strings = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: fc.constantFrom("a", "\\", '"', "/", "\n", "\u0000", "\u001f", "é", "😀", "\ud800", "\udc00", " ") }),
);
const numbers = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e21, 5e-324, -1.5e-7, 0.1));
const values = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, strings, numbers, fc.boolean(), fc.constant(null), tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 6 }),
  object: fc.dictionary(strings, tie("value"), { maxKeys: 6 }),
})).value;

describe("PartialJSON, fuzzed: consistent after every delta, JSON.parse's value at the end", () => {
  it("fc.jsonValue() as JSON.stringify writes it, with and without indentation, cut anywhere", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, "\t"), fc.array(fc.nat(), { maxLength: 30 }), (value, indent, cuts) => {
        const text = JSON.stringify(value, null, indent);
        const final = JSON.parse(text);
        expect(streamThrough(cutAt(text, cuts), final)).toStrictEqual(final);
      }),
      { numRuns: 300 },
    );
  });

  it("strings with escapes, unicode and surrogate pairs, numbers in every form, random whitespace: 1-character deltas and random cuts", () => {
    fc.assert(
      fc.property(values, spellings, fc.array(fc.nat(), { maxLength: 40 }), (value, how, cuts) => {
        const text = spell(value, spelling(how));
        const final = JSON.parse(text);
        expect(streamThrough(chars(text), final)).toStrictEqual(final);
        expect(streamThrough(cutAt(text, cuts), final)).toStrictEqual(final);
      }),
      { numRuns: 300 },
    );
  });

  it("deep nesting", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("[", "{"), { minLength: 50, maxLength: 500 }), spellings, fc.array(fc.nat(), { maxLength: 40 }), (opens, how, cuts) => {
        let value: unknown = "leaf";
        for (const open of [...opens].reverse()) value = open === "[" ? [1, value] : { k: value, n: -2.5e-3 };
        const text = spell(value, spelling(how));
        expect(streamThrough(cutAt(text, cuts), value)).toStrictEqual(value);
      }),
      { numRuns: 50 },
    );
  });

  it("a raw surrogate pair cut between its halves never shows half of it", () => {
    const parser = new PartialJSON();
    expect(parser.push('["a\ud83d')).toEqual(["a"]);
    expect(parser.push("\ude00b")).toEqual(["a😀b"]);
    expect(parser.push('"]')).toEqual(["a😀b"]);
    expect(parser.end()).toEqual(["a😀b"]);
  });

  it("an escaped surrogate pair shows once both halves are in; a lone surrogate escape is kept, as JSON.parse keeps it", () => {
    const text = '["\\ud83d\\ude00", "\\ud800x", "\\udc00", "\\ud800\\ud800\\ude00", "\\ud800"]';
    const seen: string[] = [];
    const parser = new PartialJSON();
    for (const ch of chars(text)) {
      const value = parser.push(ch) as string[];
      for (const s of value) {
        if (!seen.includes(s)) seen.push(s);
      }
    }
    expect(parser.end()).toEqual(JSON.parse(text));
    // Strings shown along the way: never the pair's high half alone, never a half escape.
    expect(seen).toEqual(["", "😀", "\ud800x", "\udc00", "\ud800", "\ud800\ud800\ude00"]);
  });
});

// --- fixed documents, every prefix ---

/** ~20 KB of the kind of object a model streams: records with strings, numbers, nested objects and arrays. */
function records(count: number): unknown {
  const random = rng(count);
  const words = ["Tokyo", "naïve", "café", "line\nbreak", 'a "quote"', "back\\slash", "tab\there", "emoji 😀", "中文", "x/y"];
  const word = () => words[Math.floor(random() * words.length)]!;
  return {
    title: "Trip ideas",
    count,
    items: Array.from({ length: count }, (_, i) => ({
      id: i,
      name: `${word()} ${word()}`,
      price: Math.round(random() * 1e6) / 100,
      rating: -random(),
      tags: [word(), word()],
      open: random() < 0.5,
      note: random() < 0.2 ? null : `${word()} ${word()} ${word()}`,
      location: { lat: random() * 180 - 90, lng: random() * 360 - 180, exponent: 6.02e23 },
    })),
  };
}

const BIG = records(80);
const FIXED: [string, string][] = [
  ["a pretty-printed 20 KB object", JSON.stringify(BIG, null, 2)],
  ["the same, compact", JSON.stringify(BIG)],
  ["scalars", '[0, -0, 1, -1.5, 1e5, 1E-5, 2.5e+10, true, false, null, "", "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00", {}, []]'],
  ["a top-level string", '"hello \\u00e9 world"'],
  ["a top-level number", "  -12.5e3  "],
];

describe("PartialJSON on fixed documents", () => {
  it("the 20 KB documents are at least 20 KB", () => {
    expect(FIXED[0]![1].length).toBeGreaterThan(20_000);
    expect(FIXED[1]![1].length).toBeGreaterThan(14_000);
  });

  for (const [name, text] of FIXED) {
    // 20 KB one character at a time checks 20,000 values against the final one: seconds on a loaded machine.
    it(`${name}: consistent after every character, and end() is JSON.parse's value`, { timeout: 60_000 }, () => {
      const final = JSON.parse(text);
      expect(streamThrough(chars(text), final)).toStrictEqual(final);
    });
  }

  for (const [name, text] of FIXED.slice(2)) {
    it(`${name}: every prefix pushed whole to a new parser gives the value the 1-character deltas gave`, () => {
      const incremental = new PartialJSON();
      for (let k = 1; k <= text.length; k++) {
        const stepwise = structuredClone(incremental.push(text[k - 1]!));
        expect(new PartialJSON().push(text.slice(0, k))).toStrictEqual(stepwise);
      }
    });
  }

  it("shows what the documentation says, when it says", () => {
    const parser = new PartialJSON();
    expect(parser.push("")).toBeUndefined();
    expect(parser.push("  ")).toBeUndefined();
    expect(parser.push('{"ti')).toEqual({});
    expect(parser.push('tle"')).toEqual({}); // the key is complete, its value has not begun
    expect(parser.push(': "Tok')).toEqual({ title: "Tok" });
    expect(parser.push('yo\\')).toEqual({ title: "Tokyo" }); // never a half escape
    expect(parser.push('u00')).toEqual({ title: "Tokyo" });
    expect(parser.push('e9", "n": 12')).toEqual({ title: "Tokyoé" }); // 12 may go on: 123
    expect(parser.push(",")).toEqual({ title: "Tokyoé", n: 12 });
    expect(parser.push(' "tags": [tr')).toEqual({ title: "Tokyoé", n: 12, tags: [] });
    expect(parser.push('ue, "')).toEqual({ title: "Tokyoé", n: 12, tags: [true, ""] });
    expect(parser.push('x"], "deep": [{"a": [[')).toEqual({ title: "Tokyoé", n: 12, tags: [true, "x"], deep: [{ a: [[]] }] });
    expect(parser.push("]]}]}")).toEqual({ title: "Tokyoé", n: 12, tags: [true, "x"], deep: [{ a: [[]] }] });
    expect(parser.end()).toEqual({ title: "Tokyoé", n: 12, tags: [true, "x"], deep: [{ a: [[]] }] });
  });

  it("the example in PartialJSON's documentation", () => {
    const json = new PartialJSON();
    expect(json.push('{"title": "Tok')).toEqual({ title: "Tok" });
    expect(json.push('yo", "tags": [1')).toEqual({ title: "Tokyo", tags: [] });
    expect(json.push("]}")).toEqual({ title: "Tokyo", tags: [1] });
    expect(json.end()).toEqual({ title: "Tokyo", tags: [1] });
  });

  it("the value is live: the same containers, mutated in place", () => {
    const parser = new PartialJSON();
    const value = parser.push('{"a": [') as { a: unknown[] };
    const array = value.a;
    expect(parser.push('1, {"b": "c"}')).toBe(value);
    expect(array).toEqual([1, { b: "c" }]);
    expect(parser.push("]}")).toBe(value);
    expect(parser.end()).toBe(value);
  });

  it('"__proto__" is an own key, as JSON.parse makes it, not the prototype', () => {
    const text = '{"__proto__": {"polluted": "yes"}, "a": 1}';
    const value = streamThrough(chars(text), JSON.parse(text)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__", "a"]);
    expect(value).toStrictEqual(JSON.parse(text));
  });

  it("a top-level number appears once it is complete: at the whitespace after it, or at end()", () => {
    const parser = new PartialJSON();
    expect(parser.push("12")).toBeUndefined();
    expect(parser.push("3")).toBeUndefined();
    expect(parser.end()).toBe(123);
    const spaced = new PartialJSON();
    spaced.push("4.5");
    expect(spaced.push("\n")).toBe(4.5);
  });
});

describe("PartialJSON and code fences", () => {
  const cases: [string, string][] = [
    ["```json fence", '```json\n{"a": [1, "x"]}\n```'],
    ["bare fence", '```\n{"a": [1, "x"]}\n```\n'],
    ["CRLF and leading whitespace", '\n  ```json\r\n{"a": [1, "x"]}\r\n```\r\n'],
    ["no closing fence", '```json\n{"a": [1, "x"]}\n'],
    ["closing fence right after the value", '```json\n{"a": [1, "x"]}```'],
  ];
  for (const [name, text] of cases) {
    it(`${name}: skipped, in any cut`, () => {
      const final = { a: [1, "x"] };
      expect(streamThrough(chars(text), final)).toStrictEqual(final);
      for (let cut = 0; cut <= text.length; cut++) expect(streamThrough([text.slice(0, cut), text.slice(cut)], final)).toStrictEqual(final);
    });
  }

  it("a fenced top-level number ends at the fence", () => {
    const parser = new PartialJSON();
    expect(parser.push("```\n42")).toBeUndefined();
    expect(parser.push("```")).toBe(42);
    expect(parser.end()).toBe(42);
  });
});

// --- malformed text ---

/** [text, where the first error is certain (a character offset, or "end"), its path, its message]. */
const BAD: [string, number | "end", string, string][] = [
  ['{"a":1,}', 7, "", 'Unexpected "}" at 7: expected a key'],
  ["[1 2]", 3, "", 'Unexpected "2" at 3: expected "," or "]"'],
  ['{"a" 1}', 5, "a", 'Unexpected "1" at 5: expected ":"'],
  ['{"a":1 "b":2}', 7, "", 'Unexpected "\\"" at 7: expected "," or "}"'],
  ["tru", "end", "", 'JSON ended early at 3: expected "true"'],
  ['[true, fals]', 11, "[1]", 'Unexpected "]" at 11: expected "false"'],
  ["nul1", 3, "", 'Unexpected "1" at 3: expected "null"'],
  ['"abc', "end", "", "JSON ended early at 4: expected the closing quote"],
  ['{"a":1}x', 7, "", 'Unexpected "x" at 7: expected the end'],
  ['{"a":1}}', 7, "", 'Unexpected "}" at 7: expected the end'],
  ['{"a":"b\nc"}', 7, "a", 'Unexpected "\\n" at 7: unescaped control character'],
  ['["\t"]', 2, "[0]", 'Unexpected "\\t" at 2: unescaped control character'],
  ['{"k\u0001":1}', 3, "", 'Unexpected "\\u0001" at 3: unescaped control character'],
  ['["\\q"]', 3, "[0]", 'Unexpected "q" at 3: expected an escape character'],
  ['["\\u12G4"]', 6, "[0]", 'Unexpected "G" at 6: expected a hex digit'],
  ['"\\u12', "end", "", "JSON ended early at 5: expected a hex digit"],
  ['"\\', "end", "", "JSON ended early at 2: expected an escape character"],
  ["01", 1, "", 'Unexpected "1" at 1: leading zero'],
  ['{"n": -00}', 8, "n", 'Unexpected "0" at 8: leading zero'],
  ["-", "end", "", "JSON ended early at 1: expected a digit"],
  ["-x", 1, "", 'Unexpected "x" at 1: expected a digit'],
  ["1.", "end", "", "JSON ended early at 2: expected a digit"],
  ["[1.]", 3, "[0]", 'Unexpected "]" at 3: expected a digit'],
  ["[2.e3]", 3, "[0]", 'Unexpected "e" at 3: expected a digit'],
  ["1e", "end", "", "JSON ended early at 2: expected a digit"],
  ["[1e+]", 4, "[0]", 'Unexpected "]" at 4: expected a digit'],
  ["[1e5.0]", 4, "", 'Unexpected "." at 4: expected "," or "]"'],
  [".5", 0, "", 'Unexpected "." at 0: expected a value'],
  ["+1", 0, "", 'Unexpected "+" at 0: expected a value'],
  ['{"a":[1,2,]}', 10, "a[2]", 'Unexpected "]" at 10: expected a value'],
  ['{"items":[{"name":"a"},{"name":tru}]}', 34, "items[1].name", 'Unexpected "}" at 34: expected "true"'],
  ['{"items":[{"name":"a"},{"name" "b"}]}', 31, "items[1].name", 'Unexpected "\\"" at 31: expected ":"'],
  ["[}", 1, "[0]", 'Unexpected "}" at 1: expected a value or "]"'],
  ["{]", 1, "", 'Unexpected "]" at 1: expected a key or "}"'],
  ["{1:2}", 1, "", 'Unexpected "1" at 1: expected a key or "}"'],
  ['{"a":1,\'b\':2}', 7, "", "Unexpected \"'\" at 7: expected a key"],
  ["[", "end", "[0]", 'JSON ended early at 1: expected a value or "]"'],
  ['{"a":[{"b":1', "end", "a[0]", 'JSON ended early at 12: expected "," or "}"'],
  ['{"a":', "end", "a", "JSON ended early at 5: expected a value"],
  ["", "end", "", "JSON ended early at 0: expected a value"],
  ["   \n", "end", "", "JSON ended early at 4: expected a value"],
  ["Here it is: {}", 0, "", 'Unexpected "H" at 0: expected a value'],
  ["[1]\n```", 4, "", 'Unexpected "`" at 4: expected the end'],
  ["```js\n[]\n```", 5, "", 'Unexpected "\\n" at 5: expected a "```json" line'],
  ["```yaml\n[]", 3, "", 'Unexpected "y" at 3: expected a "```json" line'],
  ["```json []```", 7, "", 'Unexpected " " at 7: expected a "```json" line'],
  ["```json\n[]\n``", "end", "", 'JSON ended early at 13: expected "```"'],
  ["```json\n[]\n```\nThat's it", 15, "", 'Unexpected "T" at 15: expected the end'],
  ["```json\n[]\n```\n```", 15, "", 'Unexpected "`" at 15: expected the end'],
  ["```json\n[]\n`x", 12, "", 'Unexpected "x" at 12: expected "```"'],
  ["```json\n```json\n[]", 8, "", 'Unexpected "`" at 8: expected a value'],
  ["```json\n[]\nok", 11, "", 'Unexpected "o" at 11: expected "```" or the end'],
];

const failed = Symbol("failed");

function failure(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("did not throw");
}

describe("PartialJSON on malformed text", () => {
  for (const [text, where, path, message] of BAD) {
    it(`${JSON.stringify(text)}: ${where === "end" ? "end() throws" : `the push of character ${where} throws`}`, () => {
      // One character per push: every push before the offending character succeeds, that one throws.
      const parser = new PartialJSON();
      const limit = where === "end" ? text.length : where;
      for (let i = 0; i < limit; i++) parser.push(text[i]!);
      const error = failure(() => (where === "end" ? parser.end() : parser.push(text[where]!)));
      expect({ path: error.path, message: error.issues[0]?.message }).toEqual({ path, message });
      expect(error.message).toBe(`Invalid JSON: ${path ? `${path}: ` : ""}${message}`);
      // Failed for good: the same error again.
      expect(failure(() => parser.push("]"))).toBe(error);
      expect(failure(() => parser.end())).toBe(error);

      // All at once: the same error, from the push (or from end() when only the end makes it certain).
      const whole = new PartialJSON();
      const again = failure(() => (where === "end" ? (whole.push(text), whole.end()) : whole.push(text)));
      expect(again.issues).toEqual(error.issues);
    });
  }

  it("fuzzed: a valid document with one character changed fails exactly when JSON.parse fails, at the change or after it", () => {
    const alphabet = fc.constantFrom(..."{}[]:,\"\\ \n0123456789-+.eEtrufalsn/x\u0001");
    const edits = fc.record({ at: fc.nat(), kind: fc.constantFrom("delete", "insert", "replace"), ch: alphabet });
    fc.assert(
      fc.property(values, spellings, edits, (value, how, edit) => {
        const valid = spell(value, spelling(how));
        const at = edit.at % (valid.length + (edit.kind === "insert" ? 1 : 0));
        const text = valid.slice(0, at) + (edit.kind === "delete" ? "" : edit.ch) + valid.slice(edit.kind === "insert" ? at : at + 1);
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          expected = failed;
        }
        const parser = new PartialJSON();
        let outcome: unknown;
        try {
          for (let i = 0; i < text.length; i++) {
            try {
              parser.push(text[i]!);
            } catch (error) {
              // Thrown by the push of the very character the message names, never before the change.
              const offset = Number(/ at (\d+)/.exec((error as ValidationError).issues[0]!.message)?.[1]);
              expect(offset).toBe(i);
              expect(offset).toBeGreaterThanOrEqual(at);
              throw error;
            }
          }
          outcome = parser.end();
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          outcome = failed;
        }
        expect(outcome).toStrictEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it("JSON.parse agrees that each of them is malformed", () => {
    for (const [text] of BAD) expect(() => JSON.parse(text), text).toThrow();
  });

  it("the error is also certain mid-push: a bad character inside a delta throws from that delta", () => {
    const parser = new PartialJSON();
    parser.push('{"a": [1, 2');
    expect(() => parser.push(", 3 4, 5]}")).toThrow('Invalid JSON: a: Unexpected "4" at 15: expected "," or "]"');
  });
});

describe("changes", () => {
  it("counts the pushes that changed the value: not whitespace, not half an escape, not a number still going on", () => {
    const json = new PartialJSON();
    const changed = (text: string) => {
      const before = json.changes;
      json.push(text);
      return json.changes !== before;
    };
    expect(changed("  ")).toBe(false);
    expect(changed("{")).toBe(true);
    expect(changed(' "a"')).toBe(false); // a key appears with its value
    expect(changed(": ")).toBe(false);
    expect(changed('"x')).toBe(true);
    expect(changed("\\")).toBe(false); // half an escape: nothing new to show
    expect(changed("n")).toBe(true);
    expect(changed('", "n": 1')).toBe(false); // 1 may go on
    expect(changed("2")).toBe(false);
    expect(changed(" ")).toBe(true); // 12, complete
    expect(changed("}")).toBe(false);
    expect(json.end()).toEqual({ a: "x\n", n: 12 });
    const root = new PartialJSON();
    root.push("nul");
    expect(root.changes).toBe(0);
    root.push("l");
    expect(root.changes).toBe(1); // null at the root is a change too
  });
});
