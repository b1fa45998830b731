// The demo's Worker: a key-holding proxy to DeepInfra's Chat Completions, or, without DEEPINFRA_TOKEN, a simulated model.
// Streamed replies go through edgechat/relay (proxy/generations.ts): resumable, and cancelled upstream by DELETE.
import type { Env } from "./platform.js";
import { readBodyCapped } from "./proxy/body.js";
import { type Config, ConfigError, readConfig } from "./proxy/config.js";
import { isAllowedOrigin, originRejected, preflight, withCors } from "./proxy/cors.js";
import { errorResponse, json } from "./proxy/errors.js";
import { forward } from "./proxy/forward.js";
import { GENERATIONS, owner, relay, type SimulatorContext } from "./proxy/generations.js";
import { info } from "./proxy/info.js";
import { checkChatRequest } from "./proxy/policy.js";
import { clientKey, takeRateLimit } from "./proxy/rate-limiter.js";
import { simulate } from "./simulated/index.js";

export { Generations } from "./proxy/generations.js";
export { RateLimiter } from "./proxy/rate-limiter.js";
export { SimulatorState } from "./simulated/state.js";

const CHAT = "/v1/openai/chat/completions";
const INFO = "/v1/openai/info";
const ROUTES: Record<string, string> = { [CHAT]: "POST, OPTIONS", [INFO]: "GET, OPTIONS" };
/** Every path under GENERATIONS is one generation's URL (the relay answers for unknown ids). */
const GENERATION_METHODS = "GET, DELETE, OPTIONS";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    let config: Config;
    try {
      config = readConfig(env);
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : "invalid configuration";
      return errorResponse(500, "server_error", "misconfigured", `The proxy is misconfigured: ${message}`);
    }
    const origin = request.headers.get("origin");
    if (!isAllowedOrigin(origin, config.allowedOrigins)) return originRejected(origin ?? "");
    const path = new URL(request.url).pathname;
    const allow = path.startsWith(GENERATIONS) ? GENERATION_METHODS : ROUTES[path];
    if (allow === undefined) {
      return withCors(errorResponse(404, "invalid_request_error", "not_found", `No route for ${request.method} ${path}`), origin);
    }
    if (request.method === "OPTIONS") return preflight(request, origin);
    if (!allow.split(", ").includes(request.method)) {
      const message = `${request.method} is not allowed on ${path}`;
      return withCors(errorResponse(405, "invalid_request_error", "method_not_allowed", message, { headers: { allow } }), origin);
    }
    // Reading or cancelling a generation is not rate-limited: a reconnecting client resumes what it already paid for.
    const routed = path.startsWith(GENERATIONS) ? await relay(env).route(request, { owner: owner(request) }) : undefined;
    const response = routed ?? (path === INFO ? json(200, info(config), { "cache-control": "no-store" }) : await chat(request, env, config));
    return withCors(response, origin);
  },
};

/** The rules in order: rate limit (every request counts), body size, body rules; then DeepInfra or the simulator. */
async function chat(request: Request, env: Env, config: Config): Promise<Response> {
  const { requests, windowSeconds } = config.rateLimit;
  const decision = await takeRateLimit(env.RATE_LIMITER, clientKey(request), requests, windowSeconds);
  if (!decision.allowed) {
    const seconds = Math.ceil(decision.retryAfterMs / 1000);
    const message = `Too many requests: at most ${requests} per ${windowSeconds} s per client. Retry in ${seconds} s.`;
    return errorResponse(429, "rate_limit_error", "rate_limit_exceeded", message, { headers: { "retry-after": String(seconds) } });
  }
  const read = await readBodyCapped(request, config.maxBodyBytes);
  if (!read.ok) {
    return read.reason === "too-large"
      ? errorResponse(413, "invalid_request_error", "request_too_large", `The request body is larger than this proxy's limit of ${config.maxBodyBytes} bytes`)
      : errorResponse(400, "invalid_request_error", "invalid_body", "The request body could not be read as UTF-8 text");
  }
  const checked = checkChatRequest(read.text, config);
  if (!checked.ok) {
    const { status, code, message, param } = checked.rejection;
    return errorResponse(status, "invalid_request_error", code, message, { param });
  }
  if (checked.body.stream === true) {
    const context: SimulatorContext | null = config.mode === "simulated" ? { rawBody: read.text, maxTokensDefaulted: checked.maxTokensDefaulted } : null;
    return relay(env).start({ body: checked.body, owner: owner(request), context });
  }
  if (config.mode !== "simulated") return forward(config.upstreamURL, config.token, checked.body);
  return simulate(checked.body, { rawBody: read.text, maxTokensDefaulted: checked.maxTokensDefaulted, config, state: env.SIMULATOR });
}
