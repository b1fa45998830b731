import {
  APIError,
  type APIErrorInit,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ContextLengthError,
  type ContextNumbers,
  errorObject,
  InternalServerError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "./api.js";

/** Build the typed error for a status and a body (already parsed, or text). */
export function createAPIError(status: number | undefined, body: unknown, headers: Headers | undefined): APIError {
  const serverMessage = messageOf(body);
  const init: APIErrorInit = { status, headers, body, serverMessage, retryable: isRetryable(status, headers, serverMessage) };
  const context = parseContextLength(serverMessage ?? "", body);
  if (context) return new ContextLengthError(init, context);
  const Class = status === undefined ? APIError : (BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError));
  return new Class(init);
}

const BY_STATUS: Record<number, typeof APIError | undefined> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/**
 * A 5xx is retried unless the server says it is for good: `x-should-retry: false`, 501, or words that name the
 * request itself as unsupported (llama.cpp answers an image sent to a text-only model with a 500 "image input is
 * not supported"): another try gives the same answer a second later.
 */
function isRetryable(status: number | undefined, headers: Headers | undefined, message = ""): boolean {
  const hint = headers?.get("x-should-retry");
  if (hint === "true") return true;
  if (hint === "false") return false;
  if (status === undefined || status === 501 || (status >= 500 && PERMANENT.test(message))) return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

const PERMANENT = /\b(?:not supported|unsupported|not implemented)\b/i;

const MAX_MESSAGE = 2000;

/** The server's words, from any of the shapes DeepInfra, FastAPI, vLLM and OpenAI use. */
export function messageOf(body: unknown): string | undefined {
  if (typeof body === "string") return clip(body.trim()) || undefined;
  if (typeof body !== "object" || body === null) return undefined;
  const { error, detail, message } = body as Record<string, unknown>;
  if (typeof error === "string") return clip(error);
  const inner = errorObject(body);
  if (inner !== body && typeof inner?.message === "string") return clip(inner.message);
  if (typeof detail === "string") return clip(detail);
  if (Array.isArray(detail)) {
    const parts = detail.map((d) => {
      if (typeof d !== "object" || d === null) return String(d);
      const { loc, msg } = d as Record<string, unknown>;
      const where = Array.isArray(loc) ? loc.join(".") : "";
      return where ? `${where}: ${String(msg)}` : String(msg);
    });
    return clip(parts.join("; "));
  }
  if (typeof message === "string") return clip(message);
  return undefined;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/**
 * Which number of a context-overflow message is which, by the words in it (the first that occurs wins): the
 * roles of its numbers in order, l limit, r requested, p prompt, c completion, and "!" when the limit bounds
 * the prompt alone. Each shape, with its source, is a fixture in test/fixtures/context-overflow/.
 */
const ROLES =
  // DeepInfra; vLLM's renderers ("you requested N output tokens and your prompt contains N characters (more than …)",
  // a count of characters, not tokens; "… your prompt contains [at least] N input tokens");
  // vLLM ("'max_tokens' … is too large: N. … maximum context length is N tokens and your request has N input tokens")
  "input length=pl!|characters=lc|prompt contains=lcp|too large:=clp|" +
  // OpenAI ("your messages resulted in N tokens"), vLLM ("your request has N input tokens"); vLLM, OpenAI, DeepSeek,
  // OpenRouter, SGLang ("you requested [about|a total of] N tokens (N in the messages, N in the completion)")
  "resulted in=lp|request has=lp|requested=lrpc|" +
  // TGI: max_total_tokens, max_input_tokens; SGLang, Together; llama.cpp's words; Ollama ("The prompt is too long: N, model maximum context length: N")
  "`inputs` tokens=lpc|`inputs` must=lp!|longer than=pl|context size (=pl|prompt is too long:=pl";

/**
 * The numbers of a context overflow, or undefined when the error is something else. Numbers in the body
 * (llama.cpp's `n_ctx`, `n_prompt_tokens`) win over the message's; a body with `n_ctx`, or OpenAI's
 * `code: "context_length_exceeded"`, is an overflow whatever the words.
 */
export function parseContextLength(message: string, body?: unknown): ContextNumbers | undefined {
  const inner = errorObject(body) ?? {};
  const text = message.toLowerCase();
  // llama.cpp's `exceed_context_size_error` carries `n_ctx` and `n_prompt_tokens`.
  const llama = typeof inner.n_ctx === "number";
  if (
    !llama &&
    inner.code !== "context_length_exceeded" &&
    !/`inputs` (tokens|must have)/.test(text) &&
    !(/context (length|window|size)|input length|too many tokens|prompt is too long/.test(text) && /exceed|too long|longer|maximum|too many/.test(text))
  )
    return undefined;
  const numbers = text.match(/\d+/g) ?? [];
  const n: Record<string, number | undefined> = {};
  let roles = "";
  for (const shape of ROLES.split("|")) {
    const [words, r] = shape.split("=") as [string, string];
    if (text.includes(words)) {
      roles = r;
      for (let i = 0; i < r.length; i++) n[r[i]!] = numbers[i] ? +numbers[i]! : undefined;
      break;
    }
  }
  if (llama) {
    n.l = inner.n_ctx as number;
    n.p = typeof inner.n_prompt_tokens === "number" ? inner.n_prompt_tokens : n.p;
  }
  return {
    limit: n.l,
    requested: n.r ?? (n.p === undefined ? undefined : n.p + (n.c ?? 0)),
    promptTokens: n.p,
    completionTokens: n.c,
    covers: n.l === undefined ? undefined : roles[2] === "!" ? "prompt" : "prompt+output",
  };
}
