/** One dispatched server-sent event, as the WHATWG HTML standard's "Interpreting an event stream" defines it. */
export interface ServerSentEvent {
  /** The `event` field of this event, or `"message"` when it had none (or an empty one). */
  event: string;
  /** The `data` lines of this event, joined with `\n`. */
  data: string;
  /** The last event ID in effect when the event was dispatched; it persists across events, like `EventSource.lastEventId`. */
  id: string;
  /** The `retry` field, in milliseconds, when this event's block carried a valid one. */
  retry?: number;
}

export interface SSEParserOptions {
  /** Called with every valid `retry` field (all ASCII digits), in milliseconds. */
  onRetry?: (ms: number) => void;
  /** Called with every comment line's text (after the colon and one optional space). */
  onComment?: (text: string) => void;
  /** Longest line, in UTF-16 code units, that the parser will hold; longer lines fail with `SSEBufferOverflowError`. Default 16 MiB. */
  maxBufferSize?: number;
  /** Aborting stops parsing, cancels the body and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A parser made by `createSSEParser`: feed it text, it calls `onEvent` before `feed` returns. */
export interface SSEParser {
  /**
   * Parse the next piece of text. Throws `SSEBufferOverflowError` when a line outgrows `maxBufferSize`; the parser
   * then stops: later feeds are ignored (no events, no callbacks, no second error) until `reset()`.
   */
  feed(text: string): void;
  /**
   * Forget a half-read event, as at the start of a new connection, and resume after an overflow; the last event
   * ID is kept, as EventSource does.
   */
  reset(): void;
  /** The last event ID in effect (it persists across events). */
  readonly lastEventId: string;
}

/** What `createSSEParser(config)` takes: `onEvent` for every dispatched event, and the parser options. */
export interface SSEParserConfig extends Omit<SSEParserOptions, "signal"> {
  onEvent: (event: ServerSentEvent) => void;
}
