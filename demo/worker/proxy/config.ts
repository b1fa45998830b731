import type { Env } from "../platform.js";

export const MODEL_90B = "meta-llama/Llama-3.2-90B-Vision-Instruct";
export const MODEL_11B = "meta-llama/Llama-3.2-11B-Vision-Instruct";

/** Context windows as DeepInfra serves these models (see /work/shared/DEEPINFRA.md); others get the smaller one. */
const CONTEXT_WINDOWS: Record<string, number> = { [MODEL_90B]: 32_768, [MODEL_11B]: 131_072 };
export const DEFAULT_CONTEXT_WINDOW = 32_768;

const DEEPINFRA = "https://api.deepinfra.com/v1/openai";

export interface Config {
  /**
   * Who answers: `deepinfra` (a token is set: forwarded with it), `server` (no token, but `UPSTREAM_URL` names another
   * server, e.g. a llama.cpp `llama-server` on this machine: forwarded without a key), or `simulated`.
   */
  mode: "deepinfra" | "server" | "simulated";
  /** DeepInfra's token (or the upstream's). Never logged, never sent to the browser. */
  token: string | undefined;
  /** Without a trailing slash, e.g. `https://api.deepinfra.com/v1/openai`. */
  upstreamURL: string;
  /** Exact origins (`https://chat.example`), or `*` for any. */
  allowedOrigins: readonly string[];
  allowedModels: readonly string[];
  maxTokensCap: number;
  maxBodyBytes: number;
  rateLimit: { requests: number; windowSeconds: number };
  /** Pace of the simulated model. */
  tokensPerSecond: number;
}

export class ConfigError extends Error {}

export function contextWindow(model: string): number {
  return CONTEXT_WINDOWS[model] ?? DEFAULT_CONTEXT_WINDOW;
}

/** The Worker's settings from its bindings. A var that is set but not a positive number is an error, not a default. */
export function readConfig(env: Env): Config {
  const token = env.DEEPINFRA_TOKEN?.trim() || undefined;
  const upstreamURL = (text(env.UPSTREAM_URL) ?? DEEPINFRA).replace(/\/+$/, "");
  return {
    mode: token ? "deepinfra" : upstreamURL === DEEPINFRA ? "simulated" : "server",
    token,
    upstreamURL,
    allowedOrigins: list(env.ALLOWED_ORIGINS).map(normalizeOrigin),
    allowedModels: list(env.ALLOWED_MODELS, [MODEL_90B, MODEL_11B]),
    maxTokensCap: positive("MAX_TOKENS_CAP", env.MAX_TOKENS_CAP, 4096, true),
    maxBodyBytes: positive("MAX_BODY_BYTES", env.MAX_BODY_BYTES, 8 * 1024 * 1024, true),
    rateLimit: {
      requests: positive("RATE_LIMIT_REQUESTS", env.RATE_LIMIT_REQUESTS, 30, true),
      windowSeconds: positive("RATE_LIMIT_WINDOW_SECONDS", env.RATE_LIMIT_WINDOW_SECONDS, 60, false),
    },
    tokensPerSecond: positive("SIMULATED_TOKENS_PER_SECOND", env.SIMULATED_TOKENS_PER_SECOND, 40, false),
  };
}

/** `https://Chat.Example:443/` → `https://chat.example`; `*` stays. */
export function normalizeOrigin(origin: string): string {
  if (origin === "*") return origin;
  try {
    return new URL(origin).origin;
  } catch {
    throw new ConfigError(`ALLOWED_ORIGINS has an entry that is not an origin: ${JSON.stringify(origin)}`);
  }
}

function text(value: string | undefined): string | undefined {
  return value?.trim() || undefined;
}

function list(value: string | undefined, fallback: string[] = []): string[] {
  const items = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return items.length > 0 ? items : fallback;
}

function positive(name: string, value: string | number | undefined, fallback: number, integer: boolean): number {
  if (value === undefined || value === "") return fallback;
  const n = typeof value === "number" ? value : Number(value.trim());
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new ConfigError(`${name} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`);
  }
  return n;
}
