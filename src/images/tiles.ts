import type { TileRules } from "../models/presets.js";
import type { ImageSize } from "./size.js";

export interface TiledCanvas {
  /** Tiles across and down of the canvas the model resizes the image onto. */
  columns: number;
  rows: number;
  /** The image's size once fitted inside that canvas, never larger than the original. */
  width: number;
  height: number;
}

/**
 * The tile canvas Llama 3.2 Vision's preprocessor chooses for an image (its `get_optimal_tiled_canvas`):
 * the grid needing the least upscaling if any needs upscaling, else the least downscaling; ties go to
 * the smaller grid. Pixels beyond that canvas are never seen by the model, so they need not be sent.
 */
export function tiledCanvas(size: ImageSize, rules: TileRules): TiledCanvas {
  let best: { columns: number; rows: number; scale: number } | undefined;
  let bestUp: typeof best;
  for (let columns = 1; columns <= rules.maxTiles; columns++) {
    for (let rows = 1; columns * rows <= rules.maxTiles; rows++) {
      const scale = Math.min((columns * rules.tileSize) / size.width, (rows * rules.tileSize) / size.height);
      const candidate = { columns, rows, scale };
      const area = columns * rows;
      if (scale >= 1) {
        if (!bestUp || scale < bestUp.scale || (scale === bestUp.scale && area < bestUp.columns * bestUp.rows)) bestUp = candidate;
      } else if (!best || scale > best.scale || (scale === best.scale && area < best.columns * best.rows)) {
        best = candidate;
      }
    }
  }
  const chosen = bestUp ?? best!;
  const scale = Math.min(1, chosen.scale);
  return {
    columns: chosen.columns,
    rows: chosen.rows,
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
}

/** Tiles an image costs; an image of unknown size is assumed to use them all (over-counting is safe). */
export function tileCount(size: ImageSize | undefined, rules: TileRules): number {
  if (!size || !(size.width > 0 && size.height > 0)) return rules.maxTiles;
  const canvas = tiledCanvas(size, rules);
  return canvas.columns * canvas.rows;
}
