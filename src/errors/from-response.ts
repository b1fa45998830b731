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
  const init: APIErrorInit = { status, headers, body, serverMessage, retryable: isRetryable(status, headers) };
  const context = serverMessage === undefined ? undefined : parseContextLength(serverMessage);
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

function isRetryable(status: number | undefined, headers: Headers | undefined): boolean {
  const hint = headers?.get("x-should-retry");
  if (hint === "true") return true;
  if (hint === "false") return false;
  if (status === undefined) return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

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

const int = (s: string | undefined) => (s === undefined ? undefined : Number.parseInt(s.replaceAll(",", ""), 10));

/** Context-overflow messages seen from DeepInfra, vLLM, TGI and OpenAI-compatible servers. */
export function parseContextLength(message: string): ContextNumbers | undefined {
  let m = /requested input length ([\d,]+) exceeds maximum input length ([\d,]+)/i.exec(message);
  if (m) return { limit: int(m[2]), requested: int(m[1]), promptTokens: int(m[1]), completionTokens: undefined, scope: "input" };
  m = /maximum context length is ([\d,]+) tokens?\.?\s*However, you requested ([\d,]+) tokens?(?: \(([\d,]+) in the messages, ([\d,]+) in the completion\))?/i.exec(message);
  if (m) return { limit: int(m[1]), requested: int(m[2]), promptTokens: int(m[3]), completionTokens: int(m[4]), scope: "total" };
  m = /maximum context length is ([\d,]+) tokens?\.?\s*However, your messages resulted in ([\d,]+) tokens?/i.exec(message);
  if (m) return { limit: int(m[1]), requested: int(m[2]), promptTokens: int(m[2]), completionTokens: undefined, scope: "total" };
  // Text Generation Inference: "`inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`".
  m = /`inputs` tokens \+ `max_new_tokens` must be <= ([\d,]+)\. Given: ([\d,]+) `inputs` tokens and ([\d,]+) `max_new_tokens`/.exec(message);
  if (m) return { limit: int(m[1]), requested: (int(m[2]) ?? 0) + (int(m[3]) ?? 0), promptTokens: int(m[2]), completionTokens: int(m[3]), scope: "total" };
  if (/context (?:length|window)|too many tokens|prompt is too long/i.test(message) && /exceed|too long|maximum|too many/i.test(message)) {
    return { limit: undefined, requested: undefined, promptTokens: undefined, completionTokens: undefined };
  }
  return undefined;
}
