import { EdgeChatError } from "./base.js";

export interface APIErrorInit {
  /** HTTP status; undefined for an error sent inside a 200 stream without a numeric code. */
  status: number | undefined;
  headers: Headers | undefined;
  /** The parsed JSON body (or its text when it is not JSON). */
  body: unknown;
  /** The server's own message, already extracted from `body`. */
  serverMessage: string | undefined;
  retryable: boolean;
}

/** The server answered with an error: a non-2xx status, or an error event inside a stream. */
export class APIError extends EdgeChatError {
  static override readonly kind: string = "APIError";
  declare readonly status: number | undefined;
  declare readonly headers: Headers | undefined;
  /** `x-request-id` (or `request-id`) from the response, for support requests (openai-node's name). */
  declare readonly requestID: string | undefined;
  declare readonly body: unknown;
  /** Whether sending the same request again may succeed (408, 409, 429, 5xx, or `x-should-retry: true`). */
  declare readonly retryable: boolean;
  /** `error.code` / `code` from the body, when present. */
  declare readonly code: string | number | undefined;
  /** `error.type` / `type` from the body, when present. */
  declare readonly type: string | undefined;

  constructor(init: APIErrorInit) {
    const { status, headers, body, serverMessage } = init;
    const text = status === undefined ? "Stream error" : (STATUS_TEXT[status] ?? (status >= 500 ? "Server error" : "Error"));
    const label = status === undefined ? text : `${status} ${text}`;
    // "429 Rate limited", not "429 Rate limited: Rate limited" when the server says just that.
    const own = serverMessage && serverMessage.toLowerCase() !== text.toLowerCase() ? serverMessage : undefined;
    super(own ? `${label}: ${own}` : label);
    this.status = status;
    this.headers = headers;
    this.requestID = headers?.get("x-request-id") ?? headers?.get("request-id") ?? undefined;
    this.body = body;
    this.retryable = init.retryable;
    const inner = errorObject(body);
    this.code = typeof inner?.code === "string" || typeof inner?.code === "number" ? inner.code : undefined;
    this.type = typeof inner?.type === "string" ? inner.type : undefined;
  }
}

export class BadRequestError extends APIError {
  static override readonly kind: string = "BadRequestError";
}
export class AuthenticationError extends APIError {
  static override readonly kind: string = "AuthenticationError";
}
export class PaymentRequiredError extends APIError {
  static override readonly kind: string = "PaymentRequiredError";
}
export class PermissionDeniedError extends APIError {
  static override readonly kind: string = "PermissionDeniedError";
}
export class NotFoundError extends APIError {
  static override readonly kind: string = "NotFoundError";
}
export class ConflictError extends APIError {
  static override readonly kind: string = "ConflictError";
}

/** One entry of FastAPI's `{"detail": [...]}` validation body. */
export interface ValidationDetail {
  loc: readonly (string | number)[];
  msg: string;
  type: string;
}

export class UnprocessableEntityError extends APIError {
  static override readonly kind: string = "UnprocessableEntityError";
  /** FastAPI's `detail` list, parsed; empty when the body had none. */
  declare readonly details: readonly ValidationDetail[];
  constructor(init: APIErrorInit) {
    super(init);
    this.details = fastApiDetails(init.body);
  }
}

export class RateLimitError extends APIError {
  static override readonly kind: string = "RateLimitError";
}
export class InternalServerError extends APIError {
  static override readonly kind: string = "InternalServerError";
}

/**
 * The prompt does not fit the model's context window. Recognised whatever the status (DeepInfra sends 500,
 * vLLM and llama.cpp 400, TGI 422), from the numbers in the body (llama.cpp's `n_ctx`), the body's `code` or
 * `type` (OpenAI's `context_length_exceeded`), or the message. Never retried as is: trim and send again.
 */
export class ContextLengthError extends APIError {
  static override readonly kind: string = "ContextLengthError";
  /** The most tokens the server accepts; what it bounds is `covers`. */
  declare readonly limit: number | undefined;
  /** The tokens the request asked for, as the server counted them (prompt, plus `max_tokens` when the server added it). */
  declare readonly requested: number | undefined;
  /** The prompt's tokens and the completion's (`max_tokens`), when the server said them. */
  declare readonly promptTokens: number | undefined;
  declare readonly completionTokens: number | undefined;
  /**
   * What `limit` bounds: `"prompt"` the input alone (DeepInfra's "maximum input length", TGI's `max_input_tokens`),
   * `"prompt+output"` the input plus the reply (a context window: llama.cpp's `n_ctx`, vLLM's `max_model_len`,
   * SGLang's, OpenAI's); undefined when the server gave no numbers.
   */
  declare readonly covers: "prompt" | "prompt+output" | undefined;

  constructor(init: APIErrorInit, numbers: ContextNumbers) {
    super({ ...init, retryable: false });
    Object.assign(this, numbers);
  }
}

export interface ContextNumbers {
  limit: number | undefined;
  requested: number | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  covers?: "prompt" | "prompt+output" | undefined;
}

export function errorObject(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === "object" && error !== null) return error as Record<string, unknown>;
  return body as Record<string, unknown>;
}

function fastApiDetails(body: unknown): ValidationDetail[] {
  const detail = typeof body === "object" && body !== null ? (body as { detail?: unknown }).detail : undefined;
  if (!Array.isArray(detail)) return [];
  return detail.flatMap((d): ValidationDetail[] => {
    if (typeof d !== "object" || d === null) return [];
    const { loc, msg, type } = d as Record<string, unknown>;
    return [
      {
        loc: Array.isArray(loc) ? loc.filter((x): x is string | number => typeof x === "string" || typeof x === "number") : [],
        msg: typeof msg === "string" ? msg : "",
        type: typeof type === "string" ? type : "",
      },
    ];
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  402: "Payment required",
  403: "Forbidden",
  404: "Not found",
  408: "Request timeout",
  409: "Conflict",
  413: "Payload too large",
  422: "Unprocessable entity",
  429: "Rate limited",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service unavailable",
  504: "Gateway timeout",
};
