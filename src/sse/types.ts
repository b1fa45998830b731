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
