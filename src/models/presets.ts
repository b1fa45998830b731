// What edgechat knows of the models it serves: context windows, image tiles and their token cost, one image per
// request, the chat template. Read by conversation/ (fitting) and images/ (preparing an image).
import { LLAMA3_TEMPLATE, type TemplateCost } from "./template.js";

/** How a vision model cuts an image into tiles: what an image costs, and the most of it worth sending. */
export interface TileRules {
  /** Side of one square tile, in pixels (560 for Llama 3.2 Vision). */
  tileSize: number;
  /** Most tiles one image may use (4 for Llama 3.2 Vision). */
  maxTiles: number;
}

export type ImagePolicy = "latest" | "all" | "error";

export interface ImageCost extends TileRules {
  /** Tokens one tile costs (Llama 3.2 Vision served by vLLM: 1,601 per 560×560 tile). */
  tokensPerTile: number;
}

export interface ModelPreset {
  /** Tokens the model accepts, input and output together, as the provider serves it. */
  contextWindow: number;
  /** Images accepted in one request. */
  maxImages: number;
  imagePolicy: ImagePolicy;
  image: ImageCost;
  template: TemplateCost;
  /** The largest image worth sending: the model never sees more pixels. */
  maxImageSide: number;
}

export const LLAMA_32_VISION_IMAGE: ImageCost = { tileSize: 560, maxTiles: 4, tokensPerTile: 1601 };

const llamaVision = (contextWindow: number): ModelPreset => ({
  contextWindow,
  // Meta: one image per inference; vLLM rejects a second with 400 "At most 1 image(s) may be provided".
  maxImages: 1,
  imagePolicy: "latest",
  image: LLAMA_32_VISION_IMAGE,
  template: LLAMA3_TEMPLATE,
  maxImageSide: 2240,
});

/** DeepInfra's vision models, with their context windows as DeepInfra serves them. */
export const MODEL_PRESETS: Readonly<Record<string, ModelPreset>> = {
  "meta-llama/Llama-3.2-90B-Vision-Instruct": llamaVision(32_768),
  "meta-llama/Llama-3.2-11B-Vision-Instruct": llamaVision(131_072),
};

export function presetFor(model: string): ModelPreset | undefined {
  return Object.hasOwn(MODEL_PRESETS, model) ? MODEL_PRESETS[model] : undefined;
}
