import type { Config } from "./config.js";

/** A rule the request broke: always a 400 `invalid_request_error`. */
export interface Rejection {
  status: 400;
  code: string;
  message: string;
  param?: string;
}

export type Checked =
  | { ok: true; body: Record<string, unknown>; /** max_tokens was missing or null and is now the cap. */ maxTokensDefaulted: boolean }
  | { ok: false; rejection: Rejection };

const invalid = (message: string, code: string, param?: string): Checked => ({
  ok: false,
  rejection: { status: 400, code, message, ...(param ? { param } : {}) },
});

/**
 * The proxy's rules for a chat request body, before anything reaches DeepInfra or the simulator: a JSON
 * object, an allowed model, `max_tokens` (and OpenAI's newer `max_completion_tokens`) at most the cap, and n = 1.
 * A missing or null `max_tokens` is set to the cap, so no request can run to DeepInfra's 16,384 default.
 */
export function checkChatRequest(text: string, config: Pick<Config, "allowedModels" | "maxTokensCap">): Checked {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return invalid("The request body is not valid JSON", "invalid_json");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return invalid("The request body must be a JSON object", "invalid_body");
  }
  const params = body as Record<string, unknown>;

  const model = params.model;
  if (typeof model !== "string" || !config.allowedModels.includes(model)) {
    const shown = typeof model === "string" ? model : JSON.stringify(model ?? null);
    const message = `The model ${shown} is not available through this proxy. Allowed: ${config.allowedModels.join(", ")}`;
    return invalid(message, "model_not_allowed", "model");
  }

  for (const field of ["max_tokens", "max_completion_tokens"] as const) {
    const value = params[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      return invalid(`${field} must be a positive integer`, "invalid_max_tokens", field);
    }
    if (value > config.maxTokensCap) {
      return invalid(`${field} is ${value}, above this proxy's cap of ${config.maxTokensCap}`, "max_tokens_too_large", field);
    }
  }
  // n > 1 multiplies the cost of a request: one reply per request through this proxy.
  if (params.n !== undefined && params.n !== null && params.n !== 1) {
    return invalid("n must be 1 through this proxy (each extra choice costs a whole reply)", "n_not_allowed", "n");
  }

  const maxTokensDefaulted = typeof params.max_tokens !== "number";
  return { ok: true, body: { ...params, max_tokens: maxTokensDefaulted ? config.maxTokensCap : params.max_tokens }, maxTokensDefaulted };
}
