/** The most common colour of an image, as the simulator reports it. */
export interface DominantColour {
  /** `#rrggbb`: the mean of the pixels in the most common colour bin. */
  hex: string;
  /** The nearest of a few basic colour names (a rough label, by RGB distance). */
  name: string;
  /** Share of the opaque pixels (or samples) that fell in that bin, 0–1. */
  share: number;
  /** Share of all pixels that were (mostly) transparent, 0–1. */
  transparent: number;
}

/**
 * Counts colours in 4,096 bins (4 bits per channel) and keeps each bin's sum, so the dominant colour is the
 * average of the pixels in the fullest bin, not the bin's corner. Pixels with alpha < 128 count as transparent.
 */
export class ColourHistogram {
  readonly #counts = new Float64Array(4096);
  readonly #sums = new Float64Array(4096 * 3);
  #opaque = 0;
  #transparent = 0;

  add(r: number, g: number, b: number, a = 255, weight = 1): void {
    if (a < 128) {
      this.#transparent += weight;
      return;
    }
    const bin = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    this.#counts[bin]! += weight;
    this.#sums[bin * 3]! += r * weight;
    this.#sums[bin * 3 + 1]! += g * weight;
    this.#sums[bin * 3 + 2]! += b * weight;
    this.#opaque += weight;
  }

  result(): DominantColour | undefined {
    const total = this.#opaque + this.#transparent;
    if (total === 0) return undefined;
    if (this.#opaque === 0) return { hex: "", name: "transparent", share: 0, transparent: 1 };
    let best = 0;
    for (let bin = 1; bin < 4096; bin++) if (this.#counts[bin]! > this.#counts[best]!) best = bin;
    const n = this.#counts[best]!;
    const rgb = [0, 1, 2].map((i) => Math.round(this.#sums[best * 3 + i]! / n)) as [number, number, number];
    return { hex: toHex(rgb), name: colourName(rgb), share: n / this.#opaque, transparent: this.#transparent / total };
  }
}

export function toHex([r, g, b]: readonly [number, number, number]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

const NAMES: [string, number, number, number][] = [
  ["black", 0, 0, 0],
  ["dark grey", 64, 64, 64],
  ["grey", 128, 128, 128],
  ["light grey", 192, 192, 192],
  ["white", 255, 255, 255],
  ["red", 220, 20, 20],
  ["dark red", 128, 0, 0],
  ["orange", 255, 140, 0],
  ["yellow", 255, 220, 0],
  ["olive", 128, 128, 0],
  ["green", 30, 160, 30],
  ["dark green", 0, 90, 0],
  ["lime", 120, 255, 0],
  ["teal", 0, 128, 128],
  ["cyan", 0, 220, 230],
  ["sky blue", 100, 180, 240],
  ["blue", 20, 60, 220],
  ["navy", 0, 0, 128],
  ["purple", 128, 0, 128],
  ["magenta", 230, 0, 200],
  ["pink", 255, 160, 190],
  ["brown", 140, 80, 30],
  ["beige", 230, 215, 180],
];

/** Nearest basic name by a weighted RGB distance ("redmean"); a label for people, not a colour science claim. */
export function colourName([r, g, b]: readonly [number, number, number]): string {
  let best = "";
  let bestDistance = Infinity;
  for (const [name, nr, ng, nb] of NAMES) {
    const mean = (r + nr) / 2;
    const dr = r - nr;
    const dg = g - ng;
    const db = b - nb;
    const distance = (2 + mean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean) / 256) * db * db;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = name;
    }
  }
  return best;
}
