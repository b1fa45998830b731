import { COMMANDS } from "../simulated/commands.js";
import { type Config, contextWindow } from "./config.js";

/** `GET /v1/openai/info`: what the page needs to know about this proxy. Never includes the token. */
export function info(config: Config) {
  const models = [...config.allowedModels];
  return {
    mode: config.mode,
    models,
    defaultModel: models[0],
    contextWindow: contextWindow(models[0] ?? ""),
    contextWindows: Object.fromEntries(models.map((m) => [m, contextWindow(m)])),
    maxTokens: config.maxTokensCap,
    maxBodyBytes: config.maxBodyBytes,
    rateLimit: config.rateLimit,
    ...(config.mode !== "simulated"
      ? {}
      : { simulated: { tokensPerSecond: config.tokensPerSecond, commands: COMMANDS.map(({ name, summary }) => ({ name, summary })) } }),
  };
}
