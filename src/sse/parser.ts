import { SSEBufferOverflowError } from "./overflow-error.js";
import type { ServerSentEvent, SSEParser, SSEParserConfig } from "./types.js";

const DEFAULT_MAX_BUFFER_SIZE = 16 * 1024 * 1024;

const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const D = 100;

/**
 * The line and field state machine of "Parsing an event stream" / "Interpreting an event stream", fed with
 * decoded text (a `TextDecoder`, `TextDecoderStream` or `Response.text()` has already dropped the leading BOM),
 * calling `onEvent` synchronously for each event: the callback API under `parseSSE` and `SSEParserStream`, for
 * code that already has text or wants no promise per event.
 *
 * ```ts
 * const parser = createSSEParser({ onEvent: (event) => console.log(event.data) });
 * parser.feed("data: hel");
 * parser.feed("lo\n\n"); // logs "hello"
 * ```
 *
 * Closures rather than a class: the state lives in local variables, which the hot loop reads faster than fields.
 */
export function createSSEParser(config: SSEParserConfig): SSEParser {
  const maxBufferSize = config.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
  // Only a line split across chunks is kept; every other line is sliced straight out of the chunk.
  let pending = "";
  // The previous chunk ended with CR: a LF at the start of the next one completes that CRLF.
  let skipLF = false;
  // undefined until the event has a data line: "data:" with an empty value still dispatches.
  let data: string | undefined;
  let type = "";
  let id = "";
  let retry: number | undefined;
  // Set by an overflow: the rest of the overlong line would otherwise be read as new lines (a hostile stream
  // could smuggle an event in after the cap), so nothing is parsed until reset().
  let stopped = false;

  function checkSize(size: number): void {
    if (size > maxBufferSize) overflow();
  }

  function overflow(): never {
    clear();
    stopped = true;
    throw new SSEBufferOverflowError(maxBufferSize);
  }

  function clear(): void {
    pending = "";
    skipLF = false;
    data = undefined;
    type = "";
    retry = undefined;
    stopped = false;
  }

  function dispatch(event: ServerSentEvent): void {
    if (retry !== undefined) {
      event.retry = retry;
      retry = undefined;
    }
    type = "";
    config.onEvent(event);
  }

  function line(s: string, start: number, end: number): void {
    if (start === end) {
      // A blank line: an event without a data line dispatches nothing, but its type and retry are still reset.
      const value = data;
      data = undefined;
      if (value !== undefined) return dispatch({ event: type === "" ? "message" : type, data: value, id });
      type = "";
      retry = undefined;
      return;
    }
    const first = s.charCodeAt(start);
    if (first === D && isDataLine(s, start, end)) {
      const value = dataValue(s, start, end);
      data = data === undefined ? value : data + "\n" + value;
      return;
    }
    if (first === COLON) {
      config.onComment?.(s.slice(start + 1 < end && s.charCodeAt(start + 1) === SPACE ? start + 2 : start + 1, end));
      return;
    }
    let colon = s.indexOf(":", start);
    if (colon === -1 || colon > end) colon = end;
    const value = colon < end ? s.slice(colon + 1 < end && s.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1, end) : "";
    switch (s.slice(start, colon)) {
      case "data":
        data = data === undefined ? value : data + "\n" + value;
        break;
      case "event":
        type = value;
        break;
      case "id":
        if (!value.includes("\0")) id = value;
        break;
      case "retry":
        if (isAsciiDigits(value)) {
          retry = Number.parseInt(value, 10);
          config.onRetry?.(retry);
        }
        break;
      // Any other field is ignored, as the standard says.
    }
  }

  /**
   * The common case — no CR in the rest of the chunk — with one `indexOf` per line, and an event that is one data
   * line followed by a blank line (nearly every event of a chat stream) dispatched without buffering its data.
   * Returns where the unfinished last line starts.
   */
  function lfLines(text: string, pos: number): number {
    for (let lf = text.indexOf("\n", pos); lf !== -1; lf = text.indexOf("\n", pos)) {
      if (lf - pos > maxBufferSize) checkSize(lf - pos);
      // Written out rather than through isDataLine/dataValue/dispatch: with several parsers in one process the
      // engine stopped inlining those here, and this branch runs once per event.
      if (
        data === undefined &&
        text.charCodeAt(pos) === D &&
        text.charCodeAt(lf + 1) === LF &&
        text.charCodeAt(pos + 4) === COLON &&
        lf - pos >= 5 &&
        text.startsWith("data", pos)
      ) {
        const event: ServerSentEvent = { event: type === "" ? "message" : type, data: text.slice(pos + 5 < lf && text.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5, lf), id };
        pos = lf + 2;
        if (retry !== undefined) {
          event.retry = retry;
          retry = undefined;
        }
        type = "";
        config.onEvent(event);
      } else {
        line(text, pos, lf);
        pos = lf + 1;
      }
    }
    return pos;
  }

  /** Lines ended by CR, LF or CRLF. The last position of each line-end character is remembered, so none is scanned twice. */
  function anyLines(text: string, pos: number): number {
    const length = text.length;
    let cr = text.indexOf("\r", pos);
    let lf = text.indexOf("\n", pos);
    while (pos < length) {
      if (cr !== -1 && cr < pos) cr = text.indexOf("\r", pos);
      if (lf !== -1 && lf < pos) lf = text.indexOf("\n", pos);
      let end: number;
      if (lf === -1) {
        if (cr === -1) break;
        end = cr;
      } else {
        end = cr !== -1 && cr < lf ? cr : lf;
      }
      checkSize(end - pos);
      line(text, pos, end);
      pos = after(text, end);
      if (pos === -1) return length;
    }
    return pos;
  }

  /** Where the next line starts after the line end at `end`; -1 when `text` ends with CR (its LF may come next). */
  function after(text: string, end: number): number {
    if (text.charCodeAt(end) !== CR) return end + 1;
    if (end + 1 === text.length) {
      skipLF = true;
      return -1;
    }
    return text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
  }

  return {
    feed(text) {
      const length = text.length;
      // Silent rather than throwing again: the overflow was reported once, by the feed that hit it.
      if (length === 0 || stopped) return;
      let pos = 0;
      if (skipLF) {
        skipLF = false;
        if (text.charCodeAt(0) === LF) pos = 1;
      }
      // One scan for CR per chunk: a chat stream has none, and then every line end is a plain indexOf("\n").
      let cr = text.indexOf("\r", pos);
      if (pending.length > 0) {
        const lf = text.indexOf("\n", pos);
        const end = cr === -1 ? lf : lf === -1 || cr < lf ? cr : lf;
        if (end === -1) {
          pending += pos === 0 ? text : text.slice(pos);
          checkSize(pending.length);
          return;
        }
        const whole = pending + text.slice(pos, end);
        pending = "";
        checkSize(whole.length);
        line(whole, 0, whole.length);
        pos = after(text, end);
        if (pos === -1) return;
        if (cr !== -1 && cr < pos) cr = text.indexOf("\r", pos);
      }
      pos = cr === -1 ? lfLines(text, pos) : anyLines(text, pos);
      if (pos < length) {
        pending = pos === 0 ? text : text.slice(pos);
        checkSize(pending.length);
      }
    },
    reset: clear,
    get lastEventId() {
      return id;
    },
  };
}

/** `s[start, end)` starts with "data:". */
function isDataLine(s: string, start: number, end: number): boolean {
  return end - start >= 5 && s.charCodeAt(start + 4) === COLON && s.startsWith("data", start);
}

/** The value of a data line: after "data:" and one optional space. */
function dataValue(s: string, start: number, end: number): string {
  return s.slice(start + 5 < end && s.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5, end);
}

function isAsciiDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
