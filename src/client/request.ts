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
}

const MAX_ERROR_BODY = 64 * 1024;

/** POST `body`, retrying what may succeed on a second try, until a 2xx response's headers arrive. */
export async function send(config: ResolvedConfig, body: string, stream: boolean, options: RequestOptions, call: CallAbort): Promise<Sent> {
  const maxRetries = options.maxRetries ?? config.maxRetries ?? DEFAULT_MAX_RETRIES;
  const timeout = options.timeout ?? config.timeout ?? DEFAULT_TIMEOUT;
  const onRetry = options.onRetry ?? config.onRetry;
  const headers = requestHeaders(config, options, stream);
  for (let retry = 0; ; retry++) {
    const attempt = new Attempt(call, timeout);
    let error: EdgeChatError;
    let retryHeaders: Headers | undefined;
    try {
      // The global fetch is looked up now, not stored: a stored `this.fetch` throws "Illegal invocation" in Workers.
      const doFetch = config.fetch ?? fetch;
      const response = await doFetch(config.url, { method: "POST", headers, body, signal: attempt.signal });
      if (response.ok) return { response, attempt };
      retryHeaders = response.headers;
      const text = redact(await readTextCapped(response, MAX_ERROR_BODY), config.apiKey);
      error = createAPIError(response.status, parseJSONOrText(text), response.headers);
    } catch (thrown) {
      error = transportError(thrown, attempt.signal);
    }
    attempt.dispose();
    if (!isRetryable(error) || retry >= maxRetries) throw error;
    const delayMs = retryDelay(retry + 1, retryHeaders);
    onRetry?.({ attempt: retry + 1, delayMs, error });
    await sleep(delayMs, call);
  }
}

function isRetryable(error: EdgeChatError): boolean {
  if (error instanceof APIError) return error.retryable;
  return error instanceof ConnectionError || (error instanceof TimeoutError && error.phase === "request");
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

function requestHeaders(config: ResolvedConfig, options: RequestOptions, stream: boolean): Headers {
  const headers = new Headers(config.headers);
  if (options.headers) new Headers(options.headers).forEach((value, key) => headers.set(key, value));
  headers.set("content-type", "application/json");
  // An explicit event-stream accept also keeps proxies (and workerd) from compressing the stream into one chunk.
  headers.set("accept", stream ? "text/event-stream" : "application/json");
  if (config.apiKey && !headers.has("authorization")) headers.set("authorization", `Bearer ${config.apiKey}`);
  return headers;
}
