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

// Everyday names and the sRGB colours they stand for (CSS named colours where one fits); a name may have two
// anchors where one colour would leave a gap (a bright azure blue is still "blue", not "violet").
const NAMES: [string, number, number, number][] = [
  ["black", 0, 0, 0],
  ["dark grey", 64, 64, 64],
  ["grey", 128, 128, 128],
  ["light grey", 192, 192, 192],
  ["white", 255, 255, 255],
  ["red", 220, 20, 20],
  ["dark red", 139, 0, 0],
  ["crimson", 220, 20, 60],
  ["salmon", 250, 128, 114],
  ["coral", 255, 127, 80],
  ["orange", 255, 140, 0],
  ["gold", 255, 200, 0],
  ["yellow", 255, 235, 0],
  ["khaki", 240, 230, 140],
  ["olive", 128, 128, 0],
  ["lime", 120, 255, 0],
  ["green", 30, 160, 30],
  ["dark green", 0, 90, 0],
  ["mint", 150, 230, 180],
  ["teal", 0, 128, 128],
  ["turquoise", 64, 224, 208],
  ["cyan", 0, 220, 230],
  ["sky blue", 135, 206, 235],
  ["blue", 20, 60, 220],
  ["blue", 30, 144, 255],
  ["navy", 0, 0, 128],
  ["indigo", 75, 0, 130],
  ["purple", 128, 0, 128],
  ["violet", 180, 120, 230],
  ["lavender", 200, 190, 240],
  ["magenta", 230, 0, 200],
  ["pink", 255, 160, 190],
  ["maroon", 110, 20, 40],
  ["brown", 140, 80, 30],
  ["tan", 210, 180, 140],
  ["beige", 235, 220, 190],
];

/** sRGB (0–255) to OKLab, where straight-line distance follows how different colours look. */
function oklab([r, g, b]: readonly [number, number, number]): [number, number, number] {
  const linear = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const [lr, lg, lb] = [linear(r), linear(g), linear(b)];
  const l = Math.cbrt(0.4122214708 * lr + 0.5363325363 * lg + 0.0514459929 * lb);
  const m = Math.cbrt(0.2119034982 * lr + 0.6806995451 * lg + 0.1073969566 * lb);
  const s = Math.cbrt(0.0883024619 * lr + 0.2817188376 * lg + 0.6299787005 * lb);
  return [0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s, 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s, 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s];
}

const NAMED = NAMES.map(([name, r, g, b]) => [name, oklab([r, g, b])] as const);

/** The nearest everyday name, by distance in OKLab: a label for people, not a colour science claim. */
export function colourName(rgb: readonly [number, number, number]): string {
  const [l, a, b] = oklab(rgb);
  let best = "";
  let bestDistance = Infinity;
  for (const [name, [nl, na, nb]] of NAMED) {
    const distance = (l - nl) ** 2 + (a - na) ** 2 + (b - nb) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = name;
    }
  }
  return best;
}
