import { SSEBufferOverflowError } from "./overflow-error.js";
import type { ServerSentEvent } from "./types.js";

export interface EventStreamHandlers {
  onEvent: (event: ServerSentEvent) => void;
  onComment?: ((text: string) => void) | undefined;
  onRetry?: ((ms: number) => void) | undefined;
}

export const DEFAULT_MAX_BUFFER_SIZE = 16 * 1024 * 1024;

const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;

/**
 * The line and field state machine of "Parsing an event stream" / "Interpreting an event stream",
 * fed with already-decoded text. Lines are found with `indexOf` over each chunk, and the last
 * position of each line-end character is remembered, so no byte is scanned twice; only a line split
 * across chunks is concatenated.
 */
export class EventStreamParser {
  readonly #handlers: EventStreamHandlers;
  readonly #maxBufferSize: number;
  #pending = "";
  #skipLF = false;
  #data: string | undefined = undefined;
  #event = "";
  #id = "";
  #retry: number | undefined = undefined;

  constructor(handlers: EventStreamHandlers, maxBufferSize = DEFAULT_MAX_BUFFER_SIZE) {
    this.#handlers = handlers;
    this.#maxBufferSize = maxBufferSize;
  }

  /** The last event ID in effect (persists across events). */
  get lastEventId(): string {
    return this.#id;
  }

  feed(text: string): void {
    const length = text.length;
    if (length === 0) return;
    let pos = 0;
    if (this.#skipLF) {
      // The previous chunk ended with CR: a LF here completes that CRLF, it is not a second line end.
      this.#skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
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
      if (this.#pending.length > 0) {
        const line = this.#pending + text.slice(pos, end);
        this.#pending = "";
        this.#checkSize(line.length);
        this.#line(line, 0, line.length);
      } else {
        this.#checkSize(end - pos);
        this.#line(text, pos, end);
      }
      if (text.charCodeAt(end) === CR) {
        if (end + 1 === length) {
          this.#skipLF = true;
          return;
        }
        pos = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
      } else {
        pos = end + 1;
      }
    }
    if (pos < length) {
      this.#pending = pos === 0 ? this.#pending + text : this.#pending + text.slice(pos);
      this.#checkSize(this.#pending.length);
    }
  }

  /** Forget everything, as at the start of a new connection, except the last event ID (as EventSource does). */
  reset(): void {
    this.#pending = "";
    this.#skipLF = false;
    this.#data = undefined;
    this.#event = "";
    this.#retry = undefined;
  }

  #checkSize(size: number): void {
    if (size > this.#maxBufferSize) {
      this.#pending = "";
      throw new SSEBufferOverflowError(this.#maxBufferSize);
    }
  }

  #line(s: string, start: number, end: number): void {
    if (start === end) return this.#dispatch();
    const first = s.charCodeAt(start);
    if (first === COLON) {
      const onComment = this.#handlers.onComment;
      if (onComment) onComment(s.slice(s.charCodeAt(start + 1) === SPACE && start + 1 < end ? start + 2 : start + 1, end));
      return;
    }
    // Fast path: nearly every line of a chat stream is "data: {...}".
    if (first === 100 && s.startsWith("data:", start) && end - start >= 5) {
      const from = start + 5 < end && s.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5;
      const value = s.slice(from, end);
      this.#data = this.#data === undefined ? value : this.#data + "\n" + value;
      return;
    }
    let colon = start;
    while (colon < end && s.charCodeAt(colon) !== COLON) colon++;
    const field = s.slice(start, colon);
    let value = "";
    if (colon < end) {
      const from = colon + 1 < end && s.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
      value = s.slice(from, end);
    }
    this.#field(field, value);
  }

  #field(field: string, value: string): void {
    switch (field) {
      case "data":
        this.#data = this.#data === undefined ? value : this.#data + "\n" + value;
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (isAsciiDigits(value)) {
          const ms = Number.parseInt(value, 10);
          this.#retry = ms;
          this.#handlers.onRetry?.(ms);
        }
        break;
      // Any other field is ignored, as the standard says.
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const retry = this.#retry;
    const type = this.#event;
    this.#data = undefined;
    this.#event = "";
    this.#retry = undefined;
    // An empty data buffer (no data line since the last dispatch) dispatches nothing.
    if (data === undefined) return;
    const event: ServerSentEvent = { event: type === "" ? "message" : type, data, id: this.#id };
    if (retry !== undefined) event.retry = retry;
    this.#handlers.onEvent(event);
  }
}

function isAsciiDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
