// Token arithmetic of the simulation. Not Llama 3's tokenizer (that needs a 128K-entry vocabulary): estimates, stated as such.

/** Each message costs its content plus `<|start_header_id|>role<|end_header_id|>\n\n … <|eot_id|>`. */
export const TOKENS_PER_MESSAGE = 4;
/** `<|begin_of_text|>` plus the reply's opening `<|start_header_id|>assistant<|end_header_id|>\n\n`. */
export const TOKENS_PER_PROMPT = 5;
/** Llama 3.2 Vision: one `<|image|>` token in the text, 1,601 vision-encoder tokens per 560×560 tile (vLLM counts both). */
export const TOKENS_PER_TILE = 1601;
export const MAX_TILES = 4;

/** About 4 characters per token, the usual rule of thumb for English with Llama 3's BPE. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** `tiles` is undefined when the image's size is unknown: then the maximum (4 tiles) is assumed. */
export function estimateImageTokens(tiles: number | undefined): number {
  return 1 + TOKENS_PER_TILE * (tiles ?? MAX_TILES);
}

/**
 * How many 560×560 tiles Llama 3.2 Vision's preprocessor uses for an image: of the canvases of at most 4
 * tiles (1×1 … 4×1), the one needing the least upscaling, else the least downscaling; ties → fewer tiles.
 */
export function tilesFor(width: number, height: number): number {
  const canvases: [number, number][] = [];
  for (let cols = 1; cols <= MAX_TILES; cols++) for (let rows = 1; cols * rows <= MAX_TILES; rows++) canvases.push([cols, rows]);
  const scaled = canvases.map(([cols, rows]) => ({ tiles: cols * rows, scale: Math.min((560 * cols) / width, (560 * rows) / height) }));
  const up = scaled.filter((c) => c.scale >= 1);
  const pick = up.length > 0
    ? up.reduce((a, b) => (b.scale < a.scale || (b.scale === a.scale && b.tiles < a.tiles) ? b : a))
    : scaled.reduce((a, b) => (b.scale > a.scale || (b.scale === a.scale && b.tiles < a.tiles) ? b : a));
  return pick.tiles;
}

/**
 * Split a reply into token-sized pieces the way a BPE pre-tokenizer does (a word with its leading space,
 * up to 3 digits, a run of punctuation, whitespace). The pieces join back to the exact text; each is
 * streamed as one delta and counted as one completion token.
 */
export function toTokens(text: string): string[] {
  return text.match(/ ?\p{L}+| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu) ?? [];
}
