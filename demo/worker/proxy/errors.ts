export type ErrorType = "invalid_request_error" | "permission_error" | "rate_limit_error" | "server_error";

/**
 * The OpenAI error shape every rejection of the proxy uses: `{"error":{"message","type","param","code"}}`.
 * The SDK (and OpenAI's) read `message`, `type` and `code` from it.
 */
export function errorResponse(
  status: number,
  type: ErrorType,
  code: string,
  message: string,
  options: { param?: string | undefined; headers?: HeadersInit } = {},
): Response {
  return json(status, { error: { message, type, param: options.param ?? null, code } }, options.headers);
}

export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const out = new Headers(headers);
  out.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: out });
}
