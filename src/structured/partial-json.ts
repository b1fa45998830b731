import { formatPath, ValidationError } from "../errors/validation.js";

type Container = Record<string, unknown> | unknown[];

// The parser's states. The first eight allow whitespace, which the loop skips before it looks at the state.
const START = 0; // before the value (a code fence may come first)
const VALUE = 1; // after ":" or an array's ","
const FIRST = 2; // after "[": a value or "]"
const COLON = 3; // after a key
const OPENED = 4; // after "{": a key or "}"
const KEY = 5; // after an object's ","
const AFTER = 6; // after a value in a container: "," or the closing bracket
const END = 7; // after the value: whitespace, a closing code fence
const STRING = 8;
const ESCAPE = 9; // after a backslash
const HEX = 10; // in \uXXXX
const NUMBER = 11;
const WORD = 12; // true, false, null
const FENCE = 13; // an opening code fence
const CLOSING = 14; // a closing code fence

const EXPECTED = ["a value", "a value", 'a value or "]"', '":"', 'a key or "}"', "a key", "", "the end", "the closing quote", "an escape character", "a hex digit", "a digit", "", 'a "```json" line', '"```"'];

// The number grammar's states (JSON's: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?), and those a number may end in.
const MINUS = 0;
const ZERO = 1;
const INT = 2;
const DOT = 3;
const FRACTION = 4;
const EXP = 5;
const SIGN = 6;
const EXP_DIGITS = 7;
const LEADING_ZERO = 8;
const CAN_END = (1 << ZERO) | (1 << INT) | (1 << FRACTION) | (1 << EXP_DIGITS);

const ESCAPES = '"\\/bfnrtu';
const DECODED = '"\\/\b\f\n\r\t';
const OPENERS = ["```json\n", "```json\r\n", "```\n", "```\r\n"];

/**
 * The value of a JSON document while it streams in, for structured output: `push` each piece of text as it
 * arrives and get the value so far, at a cost of the new text only (a small state machine with a stack of open
 * containers: earlier text is never read again, where re-parsing the whole text on every delta goes quadratic).
 *
 * ```ts
 * const json = new PartialJSON();
 * json.push('{"title": "Tok');     // { title: "Tok" }
 * json.push('yo", "tags": [1');    // { title: "Tokyo", tags: [] }: 1 may go on (12...)
 * json.push("]}");                 // { title: "Tokyo", tags: [1] }
 * json.end();                      // the same value; throws a ValidationError if the document is not complete
 * ```
 *
 * The value so far is LIVE: containers are built once and mutated in place as text arrives (clone it to keep a
 * snapshot). It is always consistent with the final value: a string shows what has arrived (escapes once complete,
 * never half a surrogate pair); a number, `true`, `false` or `null` appears once complete (a number when a character
 * that cannot continue it follows, or at `end()`); an object's key once its string is complete and its value has
 * begun; an array's element as it begins. A markdown code fence around the document ("```json" ... "```") is skipped.
 *
 * Malformed text throws a `ValidationError` as soon as it is certain, with the path in the value and the offset in
 * the text (`items[3].name: Unexpected "}" at 1234: expected a value`); the parser then stays failed.
 */
// State in private fields, steps in private methods: the same functions for every parser. A first version kept the
// state in closures made per parser, and V8 deoptimized its hot loop again for each new parser (5× slower, measured).
export class PartialJSON {
  #root: unknown;
  #state = START;
  #error: ValidationError | undefined;
  #at = 0; // where the current text starts in the whole document
  // The innermost open container, where the current value goes in it, and the containers around it with where each
  // of their children sits (the path).
  #top: Container | undefined;
  #isArray = false;
  #slot: string | number = 0;
  #outer: Container[] = [];
  #path: (string | number)[] = [];
  // The string being read, decoded. Grown with `+=`, which V8 keeps as a rope: 10,000 appends of 20 characters to
  // one 200 KB string took 5 ms, where joining kept chunks on every push (a new string per push) took 3.8 s.
  #str = "";
  #hold = ""; // decoded but not shown yet: a high surrogate whose low half may follow
  #isKey = false; // the string being read is a key
  #token = ""; // a number's text, the word being matched, the opening fence so far
  #sub = 0; // a number's grammar state, a word's or a closing fence's characters matched, \u's digits read
  #code = 0; // \u's code unit so far
  #fenced = false; // an opening fence was read and not yet closed
  #changes = 0;
  #begun = false; // a value has begun (the root may be null, false, 0 or "")

  /** Feed the next piece of text; returns the value so far, undefined before any value has begun. */
  push(text: string): unknown {
    if (this.#error) throw this.#error;
    this.#feed(text);
    return this.#root;
  }

  /** How many times the value so far has changed: equal before and after a push, that push changed nothing. */
  get changes(): number {
    return this.#changes;
  }

  /** The value so far (what the last `push` returned). */
  get value(): unknown {
    return this.#root;
  }

  /** The text has ended: the complete value. Throws a ValidationError when the text is not one complete JSON document. */
  end(): unknown {
    if (this.#error) throw this.#error;
    if (this.#state === NUMBER && (CAN_END >> this.#sub) & 1) this.#number();
    if (this.#state !== END) this.#fail(`JSON ended early at ${this.#at}: expected ${this.#expected()}`);
    return this.#root;
  }

  #set(value: unknown): void {
    const top = this.#top;
    const slot = this.#slot;
    // The same string again (a push that ended inside an escape) is no change; a grown one differs in length at once.
    if ((top ? (top as Record<string, unknown>)[slot] : this.#root) !== value || !(top ? Object.hasOwn(top, slot) : this.#begun)) this.#changes++;
    this.#begun = true;
    if (!top) this.#root = value;
    // An own "__proto__" property, as JSON.parse makes, not the object's prototype.
    else if (slot === "__proto__") Object.defineProperty(top, slot, { value, writable: true, enumerable: true, configurable: true });
    else (top as Record<string, unknown>)[slot] = value;
  }

  #done(): void {
    this.#state = this.#top ? AFTER : END;
  }

  #number(): void {
    this.#set(Number(this.#token));
    this.#done();
  }

  #open(container: Container, array: boolean): void {
    this.#set(container);
    if (this.#top) {
      this.#outer.push(this.#top);
      this.#path.push(this.#slot);
    }
    this.#top = container;
    this.#isArray = array;
    this.#slot = 0;
  }

  #close(): void {
    const top = (this.#top = this.#outer.pop());
    if (top) {
      this.#slot = this.#path.pop()!;
      this.#isArray = Array.isArray(top);
    }
    this.#done();
  }

  #expected(): string {
    const state = this.#state;
    if (state === AFTER) return this.#isArray ? '"," or "]"' : '"," or "}"';
    if (state === WORD) return `"${this.#token}"`;
    return state === END && this.#fenced ? '"```" or the end' : EXPECTED[state]!;
  }

  #fail(message: string): never {
    // Inside a value, or where one is expected, the path ends at its key or index; between values and in a key, at
    // the container.
    const state = this.#state;
    const keys = this.#top && !this.#isKey && (state < OPENED || state > AFTER) ? [...this.#path, this.#slot] : this.#path;
    throw (this.#error = new ValidationError("JSON", [{ path: formatPath(keys.map((key) => ({ key }))), message }]));
  }

  #unexpected(text: string, i: number, what = `expected ${this.#expected()}`): never {
    this.#fail(`Unexpected ${JSON.stringify(text[i])} at ${this.#at + i}: ${what}`);
  }

  /** The first character `c` of a value, at `text[i]`. */
  #begin(text: string, i: number, c: number): void {
    if (c === 123) {
      this.#open({}, false);
      this.#state = OPENED;
    } else if (c === 91) {
      this.#open([], true);
      this.#state = FIRST;
    } else if (c === 34) {
      this.#str = this.#hold = "";
      this.#set("");
      this.#state = STRING;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      this.#token = text[i]!;
      this.#sub = c === 45 ? MINUS : c === 48 ? ZERO : INT;
      this.#state = NUMBER;
    } else {
      const word = c === 116 ? "true" : c === 102 ? "false" : c === 110 ? "null" : "";
      if (!word) this.#unexpected(text, i);
      this.#token = word;
      this.#sub = 1;
      this.#state = WORD;
    }
  }

  #feed(text: string): void {
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const state = this.#state;
      if (state < STRING && (c === 32 || c === 10 || c === 13 || c === 9)) continue;
      switch (state) {
        case STRING: {
          let j = i;
          let d = c;
          while (d !== 34 && d !== 92 && d >= 32 && ++j < n) d = text.charCodeAt(j);
          if (j > i) {
            // A high surrogate waits for its low half, which may come in the next text or as a \u escape.
            const cut = (text.charCodeAt(j - 1) & 0xfc00) === 0xd800 ? j - 1 : j;
            this.#str += this.#hold + text.slice(i, cut);
            this.#hold = text.slice(cut, j);
          }
          i = j;
          if (j === n) break;
          if (d === 92) this.#state = ESCAPE;
          else if (d !== 34) this.#unexpected(text, j, "unescaped control character");
          else {
            const str = (this.#str += this.#hold);
            this.#hold = "";
            if (this.#isKey) {
              this.#slot = str;
              this.#isKey = false;
              this.#state = COLON;
            } else {
              this.#set(str);
              this.#done();
            }
          }
          break;
        }
        case NUMBER: {
          let j = i;
          let s = this.#sub;
          for (; j < n; j++) {
            const next = step(s, text.charCodeAt(j));
            if (next < 0) break;
            if (next === LEADING_ZERO) this.#unexpected(text, j, "leading zero");
            s = next;
          }
          this.#token += text.slice(i, j);
          this.#sub = s;
          i = j;
          if (j === n) break;
          if (!((CAN_END >> s) & 1)) this.#unexpected(text, j);
          this.#number();
          i--; // the character after the number is read again, in the new state
          break;
        }
        case ESCAPE: {
          const k = ESCAPES.indexOf(text[i]!);
          if (k < 0) this.#unexpected(text, i);
          if (k === 8) {
            this.#sub = this.#code = 0;
            this.#state = HEX;
          } else {
            this.#str += this.#hold + DECODED[k];
            this.#hold = "";
            this.#state = STRING;
          }
          break;
        }
        case HEX: {
          const h = parseInt(text[i]!, 16);
          if (!(h >= 0)) this.#unexpected(text, i);
          const code = (this.#code = this.#code * 16 + h);
          if (++this.#sub === 4) {
            const unit = String.fromCharCode(code);
            if ((code & 0xfc00) === 0xd800) {
              this.#str += this.#hold;
              this.#hold = unit;
            } else {
              this.#str += this.#hold + unit;
              this.#hold = "";
            }
            this.#state = STRING;
          }
          break;
        }
        case WORD: {
          const word = this.#token;
          if (c !== word.charCodeAt(this.#sub)) this.#unexpected(text, i);
          if (++this.#sub === word.length) {
            this.#set(JSON.parse(word));
            this.#done();
          }
          break;
        }
        case START:
          if (c === 96 && !this.#fenced) {
            this.#token = "`";
            this.#state = FENCE;
          } else this.#begin(text, i, c);
          break;
        case VALUE:
          this.#begin(text, i, c);
          break;
        case FIRST:
          if (c === 93) this.#close();
          else this.#begin(text, i, c);
          break;
        case OPENED:
        case KEY:
          if (c === 125 && state === OPENED) this.#close();
          else if (c !== 34) this.#unexpected(text, i);
          else {
            this.#str = this.#hold = "";
            this.#isKey = true;
            this.#state = STRING;
          }
          break;
        case COLON:
          if (c !== 58) this.#unexpected(text, i);
          this.#state = VALUE;
          break;
        case AFTER:
          if (c === 44) {
            if (this.#isArray) {
              this.#slot = (this.#top as unknown[]).length;
              this.#state = VALUE;
            } else this.#state = KEY;
          } else if (c === (this.#isArray ? 93 : 125)) this.#close();
          else this.#unexpected(text, i);
          break;
        case END:
          if (c !== 96 || !this.#fenced) this.#unexpected(text, i);
          this.#sub = 1;
          this.#state = CLOSING;
          break;
        case FENCE: {
          const fence = (this.#token += text[i]);
          if (!OPENERS.some((o) => o.startsWith(fence))) this.#unexpected(text, i);
          if (OPENERS.includes(fence)) {
            this.#fenced = true;
            this.#state = START;
          }
          break;
        }
        case CLOSING:
          if (c !== 96) this.#unexpected(text, i);
          if (++this.#sub === 3) {
            this.#fenced = false;
            this.#state = END;
          }
          break;
      }
    }
    this.#at += n;
    // The string being read shows what has arrived: one assignment per push, not one per character.
    if (this.#state >= STRING && this.#state <= HEX && !this.#isKey) this.#set(this.#str);
  }
}

/** The number grammar's state after character `c`; -1 when `c` cannot go on the number. */
function step(s: number, c: number): number {
  if (c >= 48 && c <= 57) return s === MINUS ? (c === 48 ? ZERO : INT) : s === ZERO ? LEADING_ZERO : s === DOT ? FRACTION : s === EXP || s === SIGN ? EXP_DIGITS : s;
  if (c === 46) return s === ZERO || s === INT ? DOT : -1;
  if ((c | 32) === 101) return s === ZERO || s === INT || s === FRACTION ? EXP : -1;
  return (c === 43 || c === 45) && s === EXP ? SIGN : -1;
}
