import { EdgeChatError } from "./base.js";

/** The request never got an HTTP response: DNS, refused or reset connection, CORS, offline. Retried. */
export class ConnectionError extends EdgeChatError {
  static override readonly kind: string = "ConnectionError";
  readonly retryable = true;
  constructor(message = "Connection error: the request did not reach the server", options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type TimeoutPhase = "request" | "idle";

/** `timeout` (the whole attempt) or `idleTimeout` (the gap between stream events) ran out. */
export class TimeoutError extends EdgeChatError {
  static override readonly kind: string = "TimeoutError";
  declare readonly phase: TimeoutPhase;
  declare readonly timeoutMs: number;
  constructor(phase: TimeoutPhase, timeoutMs: number) {
    super(
      phase === "idle"
        ? `No stream event for ${timeoutMs} ms (idleTimeout): the server stalled`
        : `The request did not finish within ${timeoutMs} ms (timeout)`,
    );
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller aborted: `signal`, `stream.abort()`, or breaking out of a `for await`. Never retried. */
export class UserAbortError extends EdgeChatError {
  static override readonly kind: string = "UserAbortError";
  constructor(options?: { cause?: unknown }) {
    super("The request was aborted", options);
  }
}

/** The stream ended or broke before the reply was finished: no `finish_reason` and no `[DONE]`. */
export class StreamInterruptedError extends EdgeChatError {
  static override readonly kind: string = "StreamInterruptedError";
  constructor(message = "The stream ended before the reply was finished (the connection dropped)", options?: { cause?: unknown }) {
    super(message, options);
  }
}
