import { MODEL_11B, MODEL_90B } from "../proxy/config.js";

/**
 * The simulation's assumed prices, US dollars per million tokens (DeepInfra's published prices for these
 * models when this was written; check deepinfra.com before relying on them). Unknown models use the 90B's.
 */
export const PRICES: Record<string, { input: number; output: number }> = {
  [MODEL_90B]: { input: 0.35, output: 0.4 },
  [MODEL_11B]: { input: 0.049, output: 0.049 },
};

export function estimatedCost(model: string, promptTokens: number, completionTokens: number): number {
  const price = PRICES[model] ?? PRICES[MODEL_90B]!;
  return Math.round(((promptTokens * price.input + completionTokens * price.output) / 1e6) * 1e12) / 1e12;
}
