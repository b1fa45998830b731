import { EdgeChatError } from "../errors/base.js";
import { APIError } from "../errors/api.js";
import { createAPIError } from "../errors/from-response.js";
import { ConnectionError, StreamInterruptedError, TimeoutError } from "../errors/transport.js";
import { Attempt, type CallAbort } from "./attempt.js";
import { type ClientOptions, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, type RequestOptions } from "./options.js";
import { parseJSONOrText, readTextCapped, redact } from "./read-text.js";
import { retryDelay, sleep } from "./retry.js";

/** The client's options as `createClient` settled them: the key checked, the endpoint's full URL. */
export interface ResolvedConfig extends Omit<ClientOptions, "apiKey"> {
  apiKey: string | undefined;
  url: string;
}

export interface Sent {
  response: Response;
  /** Still running: its timeout covers the body. The reader of the body disposes it. */
  attempt: Attempt;
  /** Which try answered: 0 the first, n the nth retry. */
  retry: number;
}

/** A request of a call: a POST of `body`, or a GET of a stream to resume (`Last-Event-ID`: what was read of it). */
export interface Target {
  url: string;
  body?: string;
  lastEventId?: string | undefined;
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * Send `target`, retrying what may succeed on a second try, until a 2xx response's headers arrive. `retry` and
 * `error`: a stream that broke is resumed as the retry after `error`, counting on from the retries already spent.
 */
export async function send(
  config: ResolvedConfig,
  target: Target,
  stream: boolean,
  options: RequestOptions,
  call: CallAbort,
  retry = 0,
  error?: EdgeChatError,
): Promise<Sent> {
  const maxRetries = options.maxRetries ?? config.maxRetries ?? DEFAULT_MAX_RETRIES;
  const timeout = options.timeout ?? config.timeout ?? DEFAULT_TIMEOUT;
  const onRetry = options.onRetry ?? config.onRetry;
  const headers = requestHeaders(config, options, stream);
  if (target.lastEventId) headers.set("last-event-id", target.lastEventId);
  for (; ; retry++) {
    if (error) {
      if (!isRetryable(error) || retry > maxRetries) throw error;
      const delayMs = retryDelay(retry, error instanceof APIError ? error.headers : undefined);
      onRetry?.({ attempt: retry, delayMs, error });
      await sleep(delayMs, call);
    }
    const attempt = new Attempt(call, timeout);
    try {
      // The global fetch is looked up now, not stored: a stored `this.fetch` throws "Illegal invocation" in Workers.
      const doFetch = config.fetch ?? fetch;
      const { url, body = null } = target;
      const response = await doFetch(url, { method: body ? "POST" : "GET", headers, body, signal: attempt.signal });
      if (response.ok) return { response, attempt, retry };
      const text = redact(await readTextCapped(response, MAX_ERROR_BODY), config.apiKey);
      error = createAPIError(response.status, parseJSONOrText(text), response.headers);
    } catch (thrown) {
      error = transportError(thrown, attempt.signal);
    }
    attempt.dispose();
  }
}

/** Worth another try: what the server calls retryable, a lost connection, a timeout; a broken stream (resumed). */
function isRetryable(error: EdgeChatError): boolean {
  if (error instanceof APIError) return error.retryable;
  return error instanceof ConnectionError || error instanceof TimeoutError || error instanceof StreamInterruptedError;
}

/** What a failed fetch or body read means: the abort reason we set (typed), or a lost connection. */
export function transportError(thrown: unknown, signal: AbortSignal): EdgeChatError {
  if (signal.aborted && signal.reason instanceof EdgeChatError) return signal.reason;
  if (thrown instanceof EdgeChatError) return thrown;
  return new ConnectionError(undefined, { cause: thrown });
}

/** What a failed read of the body means: the typed abort reason, or a `StreamInterruptedError` for a lost connection. */
export function bodyReadError(thrown: unknown, signal: AbortSignal, message?: string): EdgeChatError {
  const error = transportError(thrown, signal);
  return error instanceof ConnectionError ? new StreamInterruptedError(message, { cause: thrown }) : error;
}

export function requestHeaders(config: ResolvedConfig, options: RequestOptions, stream: boolean): Headers {
  const headers = new Headers(config.headers);
  if (options.headers) new Headers(options.headers).forEach((value, key) => headers.set(key, value));
  headers.set("content-type", "application/json");
  // An explicit event-stream accept also keeps proxies (and workerd) from compressing the stream into one chunk.
  headers.set("accept", stream ? "text/event-stream" : "application/json");
  if (config.apiKey && !headers.has("authorization")) headers.set("authorization", `Bearer ${config.apiKey}`);
  return headers;
}
