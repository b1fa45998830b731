// Streamed chat requests go through edgechat/relay: each generation runs in its own Durable Object (Generations),
// which calls DeepInfra (or the simulator) itself, so a reader that reloads, sleeps or loses its connection
// comes back with Last-Event-ID to the same reply, and Stop (DELETE) cancels it upstream.
import { createRelay, GenerationRelayObject, type Relay, type UpstreamCall } from "edgechat/relay";
import type { Env } from "../platform.js";
import { simulate } from "../simulated/index.js";
import { readConfig } from "./config.js";
import { forward } from "./forward.js";
import { clientKey } from "./rate-limiter.js";

export const GENERATIONS = "/v1/openai/generations/";

/** What the simulator needs besides the body; DeepInfra needs nothing (the token is read from env, here). */
export interface SimulatorContext {
  rawBody: string;
  maxTokensDefaulted: boolean;
}

export class Generations extends GenerationRelayObject<Env> {
  protected upstream({ body, context, signal }: UpstreamCall): Promise<Response> {
    // The Worker checked this configuration before starting the generation.
    const config = readConfig(this.env);
    if (config.mode !== "simulated") return forward(config.upstreamURL, config.token, body, signal);
    const { rawBody, maxTokensDefaulted } = context as SimulatorContext;
    return simulate(body, { rawBody, maxTokensDefaulted, config, state: this.env.SIMULATOR });
  }
}

export function relay(env: Env): Relay {
  return createRelay(env.GENERATIONS, { path: GENERATIONS });
}

/** Who may read and cancel a generation: the client the rate limit knows, from the same page origin. */
export function owner(request: Request): string {
  return `${clientKey(request)}\n${pageOrigin(request)}`;
}

/**
 * The page a request comes from. A browser sends Origin on every cross-origin request and on a same-origin POST
 * or DELETE, but not on a same-origin GET (a resume): there the Referer says it, as the default referrer policy
 * keeps it for the same origin. Neither: not a page (the SDK on a server), the same for every request of it.
 */
function pageOrigin(request: Request): string {
  const origin = request.headers.get("origin");
  if (origin !== null) return origin;
  try {
    return new URL(request.headers.get("referer") ?? "").origin;
  } catch {
    return "";
  }
}
