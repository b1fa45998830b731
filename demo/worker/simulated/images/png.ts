import { formatInt } from "../format.js";
import { ColourHistogram } from "./colour.js";
import { ascii, type ImageFacts, MAX_DECODED_BYTES, MAX_PIXELS, u32be } from "./types.js";

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const COLOUR_TYPES: Record<number, string> = { 0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale + alpha", 6: "RGBA" };
/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;
/** Pixels sampled for the histogram; bigger images are sampled on a grid (every row is still unfiltered). */
const SAMPLES = 1 << 20;

export function isPng(b: Uint8Array): boolean {
  return SIGNATURE.every((v, i) => b[i] === v);
}

interface Header {
  width: number;
  height: number;
  depth: number;
  type: number;
  interlaced: boolean;
}

/** Size from IHDR; colour from a real decode: chunks → zlib (DecompressionStream "deflate") → unfiltered scanlines. */
export async function inspectPng(bytes: Uint8Array, colour = true): Promise<ImageFacts> {
  const facts: ImageFacts = { format: "PNG", unknown: [] };
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let complete = false;
  for (let pos = 8; pos + 8 <= bytes.length; ) {
    const length = u32be(bytes, pos);
    const type = ascii(bytes, pos + 4, 4);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (pos + 12 + length > bytes.length) break;
    if (type === "IHDR" && data.length >= 13) {
      header = { width: u32be(data, 0), height: u32be(data, 4), depth: data[8]!, type: data[9]!, interlaced: data[12] === 1 };
    } else if (type === "PLTE") palette = data;
    else if (type === "tRNS") trns = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") {
      complete = true;
      break;
    }
    pos += 12 + length;
  }
  if (!header) {
    facts.unknown.push("size and colour: the PNG has no readable IHDR chunk");
    return facts;
  }
  facts.width = header.width;
  facts.height = header.height;
  const channels = CHANNELS[header.type];
  facts.detail = `${header.depth}-bit ${COLOUR_TYPES[header.type] ?? `colour type ${header.type}`}${header.interlaced ? ", interlaced (Adam7)" : ""}`;
  const why = channels === undefined || ![1, 2, 4, 8, 16].includes(header.depth) ? "the header is invalid"
    : header.width * header.height > MAX_PIXELS ? `the image is larger than the simulator decodes (${formatInt(MAX_PIXELS)} pixels)`
    : header.type === 3 && !palette ? "the palette (PLTE) is missing"
    : !complete ? "the file is truncated (no IEND chunk)"
    : idat.length === 0 ? "there is no image data (IDAT)"
    : undefined;
  if (!colour) return facts;
  if (why) {
    facts.unknown.push(`dominant colour: ${why}`);
    return facts;
  }
  try {
    facts.colour = await decodeColour(header, channels!, idat, palette, trns);
  } catch (error) {
    facts.unknown.push(`dominant colour: the image data could not be decoded (${error instanceof Error ? error.message : "corrupt"})`);
  }
  return facts;
}

async function decodeColour(h: Header, channels: number, idat: Uint8Array[], palette: Uint8Array | undefined, trns: Uint8Array | undefined) {
  const bitsPerPixel = channels * h.depth;
  const passes = (h.interlaced ? ADAM7 : [[0, 0, 1, 1] as const]).map(([x0, y0, dx, dy]) => ({
    width: Math.ceil(Math.max(0, h.width - x0) / dx),
    height: Math.ceil(Math.max(0, h.height - y0) / dy),
  }));
  const expected = passes.reduce((sum, p) => sum + (p.width && p.height ? p.height * (1 + Math.ceil((p.width * bitsPerPixel) / 8)) : 0), 0);
  if (expected > MAX_DECODED_BYTES) throw new Error(`it would take ${formatInt(expected)} bytes decoded, more than the simulator allows`);
  const raw = await inflate(idat, expected);
  if (raw.length < expected) throw new Error("the compressed data ended early");

  const histogram = new ColourHistogram();
  const stride = Math.max(1, Math.ceil(Math.sqrt((h.width * h.height) / SAMPLES)));
  const maxValue = (1 << h.depth) - 1;
  const scale = (v: number) => (h.depth === 16 ? v >> 8 : h.depth === 8 ? v : Math.round((v * 255) / maxValue));
  const key = trns && h.type === 0 ? [(trns[0]! << 8) | trns[1]!] : trns && h.type === 2 ? [0, 2, 4].map((i) => (trns[i]! << 8) | trns[i + 1]!) : undefined;
  const sample = (line: Uint8Array, x: number, k: number): number => {
    if (h.depth === 8) return line[x * channels + k]!;
    if (h.depth === 16) {
      const i = 2 * (x * channels + k);
      return (line[i]! << 8) | line[i + 1]!;
    }
    const bit = x * h.depth;
    return (line[bit >> 3]! >> (8 - h.depth - (bit & 7))) & maxValue;
  };

  const bpp = Math.max(1, bitsPerPixel >> 3);
  let offset = 0;
  for (const pass of passes) {
    if (pass.width === 0 || pass.height === 0) continue;
    const rowBytes = Math.ceil((pass.width * bitsPerPixel) / 8);
    let previous: Uint8Array = new Uint8Array(rowBytes);
    for (let y = 0; y < pass.height; y++) {
      const filter = raw[offset]!;
      const line = raw.subarray(offset + 1, offset + 1 + rowBytes);
      unfilter(filter, line, previous, bpp);
      previous = line;
      offset += 1 + rowBytes;
      if (y % stride !== 0) continue;
      for (let x = 0; x < pass.width; x += stride) {
        if (h.type === 3) {
          const index = sample(line, x, 0);
          if (index * 3 + 2 >= palette!.length) throw new Error("a pixel refers past the palette");
          histogram.add(palette![index * 3]!, palette![index * 3 + 1]!, palette![index * 3 + 2]!, trns?.[index] ?? 255);
        } else if (channels <= 2) {
          const grey = sample(line, x, 0);
          const alpha = channels === 2 ? scale(sample(line, x, 1)) : key && grey === key[0] ? 0 : 255;
          const g = scale(grey);
          histogram.add(g, g, g, alpha);
        } else {
          const r = sample(line, x, 0);
          const g = sample(line, x, 1);
          const b = sample(line, x, 2);
          const alpha = channels === 4 ? scale(sample(line, x, 3)) : key && r === key[0] && g === key[1] && b === key[2] ? 0 : 255;
          histogram.add(scale(r), scale(g), scale(b), alpha);
        }
      }
    }
  }
  return histogram.result();
}

/** Undo one scanline's filter in place (PNG spec §9: None, Sub, Up, Average, Paeth). */
export function unfilter(filter: number, line: Uint8Array, previous: Uint8Array, bpp: number): void {
  const n = line.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) line[i] = (line[i]! + line[i - bpp]!) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) line[i] = (line[i]! + previous[i]!) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) line[i] = (line[i]! + (((i >= bpp ? line[i - bpp]! : 0) + previous[i]!) >> 1)) & 255;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? line[i - bpp]! : 0;
        const b = previous[i]!;
        const c = i >= bpp ? previous[i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        line[i] = (line[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
      return;
    default:
      throw new Error(`unknown filter type ${filter}`);
  }
}

/** Inflate the zlib stream, keeping at most `limit` bytes: a small file cannot make the Worker hold gigabytes. */
async function inflate(parts: Uint8Array[], limit: number): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      // Copies: a stream may take ownership of (detach) what it is given, and these are views of the request body.
      for (const part of parts) controller.enqueue(part.slice());
      controller.close();
    },
  });
  const reader = input.pipeThrough(new DecompressionStream("deflate")).getReader();
  const out = new Uint8Array(limit);
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, limit - size);
      out.set(value.subarray(0, take), size);
      size += take;
    }
  } catch (error) {
    // A bad checksum after all the pixels arrived costs nothing; a break before that is an error.
    if (size < limit) throw new Error(`zlib: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    void reader.cancel().catch(() => {});
  }
  return out.subarray(0, size);
}
