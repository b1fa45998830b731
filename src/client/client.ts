import { EdgeChatError } from "../errors/base.js";
import { CallAbort } from "./attempt.js";
import { BrowserKeyError, isBrowserLike } from "./browser.js";
import { type ChatStream, ChatStreamImpl } from "./chat-stream.js";
import { readCompletion } from "./complete.js";
import { type ClientOptions, DEFAULT_BASE_URL, DEFAULT_IDLE_TIMEOUT, type RequestOptions, type ResumeOptions } from "./options.js";
import { requestHeaders, type ResolvedConfig, send, type Target } from "./request.js";
import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from "./types.js";

export interface ChatCompletions {
  /** `stream: true`: a `ChatStream`, at once (the request is on its way). */
  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): ChatStream;
  /** Without `stream`: the whole completion, once it has arrived. */
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): ChatStream | Promise<ChatCompletion>;
  /**
   * Read a relayed generation again from its URL (`stream.resumable.url`), after the event `lastEventId` (absent:
   * from the start): its stored events, then the live tail. A generation the server no longer has (expired, or
   * another client's) is a `NotFoundError`.
   */
  resume(url: string, options?: ResumeOptions): ChatStream;
}

export interface Client {
  readonly baseURL: string;
  readonly chat: { readonly completions: ChatCompletions };
}

/**
 * A client for an OpenAI-compatible Chat Completions endpoint (DeepInfra's by default). The key is kept
 * in this closure only: it is not a property of the client, so logging the client does not print it.
 */
export function createClient(options: ClientOptions = {}): Client {
  const apiKey = options.apiKey || undefined;
  if (apiKey !== undefined) checkKey(apiKey, options.dangerouslyAllowBrowser === true);
  const baseURL = (options.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  // A copy: changing the options object later does not change the client.
  const config: ResolvedConfig = { ...options, apiKey, url: `${baseURL}/chat/completions` };

  function create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): ChatStream;
  function create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  function create(params: ChatCompletionCreateParams, options?: RequestOptions): ChatStream | Promise<ChatCompletion>;
  function create(params: ChatCompletionCreateParams, requestOptions: RequestOptions = {}): ChatStream | Promise<ChatCompletion> {
    const target = { url: config.url, body: JSON.stringify(params) };
    if (params.stream === true) return stream(target, requestOptions);
    const call = new CallAbort(requestOptions.signal);
    return readCompletion(send(config, target, false, requestOptions, call), call, apiKey);
  }

  const resume = (url: string, { lastEventId, follow, ...options }: ResumeOptions = {}) => stream({ url, lastEventId }, options, follow);

  function stream(target: Target, options: RequestOptions, follow?: boolean): ChatStream {
    const call = new CallAbort(options.signal);
    return new ChatStreamImpl({
      sent: send(config, target, true, options, call),
      call,
      idleTimeout: options.idleTimeout ?? config.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
      apiKey,
      ...(target.body === undefined && { url: target.url, lastEventId: target.lastEventId }),
      resume: (url, lastEventId, retry, error) => send(config, { url, lastEventId }, true, options, call, retry, error),
      cancel(url) {
        if (follow) return;
        const headers = requestHeaders(config, options, true);
        // keepalive: it still goes out when the page that pressed Stop is closing. Its answer matters to nobody (a
        // generation nobody stops ends at the relay's caps), and a fetch that throws must not break abort().
        (async () => (config.fetch ?? fetch)(url, { method: "DELETE", headers, keepalive: true }))().catch(() => {});
      },
    });
  }

  return { baseURL, chat: { completions: { create, resume } } };
}

function checkKey(apiKey: string, allowBrowser: boolean): void {
  // A key with characters no header may hold would make Headers throw an error that quotes it.
  if (typeof apiKey !== "string" || /[\0\r\n]/.test(apiKey) || apiKey.trim() !== apiKey) {
    throw new EdgeChatError("apiKey is not a valid token: it has whitespace, a line break or a NUL character");
  }
  if (isBrowserLike() && !allowBrowser) throw new BrowserKeyError();
}
