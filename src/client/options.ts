import type { EdgeChatError } from "../errors/base.js";

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  /** How long the client waits before sending again (the server's `Retry-After`, or backoff). */
  delayMs: number;
  /** Why the previous attempt failed. */
  error: EdgeChatError;
}

/** Request headers. Not the DOM's `HeadersInit`, so the published types also work without the DOM lib. */
export type HeaderInput = Headers | Record<string, string> | [string, string][];

export interface RequestOptions {
  /** Abort the request (and the stream) from outside. */
  signal?: AbortSignal;
  /** Milliseconds one attempt may take, body included. Default 600 000; 0 disables. */
  timeout?: number;
  /** Milliseconds a stream may go without an event (keep-alive comments do not count). Default 60 000; 0 disables. */
  idleTimeout?: number;
  /**
   * Retries after the first attempt, for 408, 409, 429, 5xx and connection failures; and, for a resumable stream,
   * resumes in a row that bring no event. Default 2.
   */
  maxRetries?: number;
  /** Extra request headers; they override the client's. */
  headers?: HeaderInput;
  /** Called before each retry, e.g. to show "rate limited — retrying in 3 s". */
  onRetry?: (info: RetryInfo) => void;
}

export interface ResumeOptions extends RequestOptions {
  /** The id of the last event already read (`stream.resumable.lastEventId`); absent: read from the start. */
  lastEventId?: string;
  /**
   * Only watch the generation: stopping this stream (`abort()`, its signal, a `break`) leaves it running — no cancel
   * is sent — for a reader that is not the one who asked (another tab showing the reply live).
   */
  follow?: boolean;
}

export interface ClientOptions extends Omit<RequestOptions, "signal"> {
  /**
   * A DeepInfra token. Leave it out when `baseURL` is your own proxy that adds the key. In a browser it
   * also needs `dangerouslyAllowBrowser: true`, since every visitor could read it.
   */
  apiKey?: string;
  /** Default `https://api.deepinfra.com/v1/openai`. */
  baseURL?: string;
  /** A `fetch` to use instead of the global one (which is looked up at each call). */
  fetch?: typeof fetch;
  /** Allow `apiKey` in a browser page or web worker. */
  dangerouslyAllowBrowser?: boolean;
}

export const DEFAULT_BASE_URL = "https://api.deepinfra.com/v1/openai";
export const DEFAULT_TIMEOUT = 600_000;
export const DEFAULT_IDLE_TIMEOUT = 60_000;
export const DEFAULT_MAX_RETRIES = 2;
