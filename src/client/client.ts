import { EdgeChatError } from "../errors/base.js";
import { CallAbort } from "./attempt.js";
import { BrowserKeyError, isBrowserLike } from "./browser.js";
import { ChatStream } from "./chat-stream.js";
import { readCompletion } from "./complete.js";
import { type ClientOptions, DEFAULT_BASE_URL, DEFAULT_IDLE_TIMEOUT, type RequestOptions } from "./options.js";
import { type ResolvedConfig, send } from "./request.js";
import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from "./types.js";

export interface ChatCompletions {
  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): ChatStream;
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): ChatStream | Promise<ChatCompletion>;
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
    const call = new CallAbort(requestOptions.signal);
    const stream = params.stream === true;
    const sent = send(config, JSON.stringify(params), stream, requestOptions, call);
    if (stream) {
      return new ChatStream({ sent, call, idleTimeout: requestOptions.idleTimeout ?? config.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, apiKey });
    }
    return readCompletion(sent, call, apiKey);
  }

  return { baseURL, chat: { completions: { create } } };
}

function checkKey(apiKey: string, allowBrowser: boolean): void {
  // A key with characters no header may hold would make Headers throw an error that quotes it.
  if (typeof apiKey !== "string" || /[\0\r\n]/.test(apiKey) || apiKey.trim() !== apiKey) {
    throw new EdgeChatError("apiKey is not a valid token: it has whitespace, a line break or a NUL character");
  }
  if (isBrowserLike() && !allowBrowser) throw new BrowserKeyError();
}
