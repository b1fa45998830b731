import { contextWindow } from "../proxy/config.js";
import { type InspectedImage, inspectImageURL } from "./images/inspect.js";
import type { SimRequest } from "./request.js";
import { estimateImageTokens, estimateTextTokens, TOKENS_PER_MESSAGE, TOKENS_PER_PROMPT, tilesFor } from "./tokens.js";

export interface ImageFact {
  /** 1-based, over the whole conversation. */
  number: number;
  inLastUserMessage: boolean;
  image: InspectedImage;
  /** Undefined when the size is unknown (then 4 tiles are assumed for the token estimate). */
  tiles: number | undefined;
  tokens: number;
}

/** Everything the simulated reply says, computed from the request. */
export interface RequestFacts {
  request: SimRequest;
  roles: Record<string, number>;
  lastUser: { text: string; words: number; characters: number; lines: number } | undefined;
  images: ImageFact[];
  promptTokens: number;
  contextWindow: number;
}

export async function gatherFacts(request: SimRequest): Promise<RequestFacts> {
  const roles: Record<string, number> = {};
  for (const m of request.messages) roles[m.role] = (roles[m.role] ?? 0) + 1;
  let lastUserIndex = -1;
  request.messages.forEach((m, i) => m.role === "user" && (lastUserIndex = i));
  const last = request.messages[lastUserIndex];

  // Only images of the last user message are decoded for colour; earlier ones still need their size for the estimate.
  const images: ImageFact[] = [];
  for (const [i, m] of request.messages.entries()) {
    for (const url of m.images) {
      const image = await inspectImageURL(url, i === lastUserIndex);
      const tiles = image.width && image.height ? tilesFor(image.width, image.height) : undefined;
      images.push({ number: images.length + 1, inLastUserMessage: i === lastUserIndex, image, tiles, tokens: estimateImageTokens(tiles) });
    }
  }

  const textTokens = request.messages.reduce((sum, m) => sum + TOKENS_PER_MESSAGE + estimateTextTokens(m.text), 0);
  const promptTokens = TOKENS_PER_PROMPT + textTokens + images.reduce((sum, image) => sum + image.tokens, 0);
  const text = last?.text ?? "";
  return {
    request,
    roles,
    lastUser: last && {
      text,
      words: text.trim().split(/\s+/).filter(Boolean).length,
      characters: [...text].length,
      lines: text === "" ? 0 : text.split("\n").length,
    },
    images,
    promptTokens,
    contextWindow: contextWindow(request.model),
  };
}
