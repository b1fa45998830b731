// A small PNG encoder for tests: real zlib compression (node:zlib), every filter type, every colour type and depth.
import { deflateSync } from "node:zlib";

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colourType: 0 | 2 | 3 | 4 | 6;
  depth?: 1 | 2 | 4 | 8 | 16;
  /** Samples of pixel (x, y) at the PNG's depth: [grey], [r,g,b], [index], [grey,alpha] or [r,g,b,a]. */
  pixel: (x: number, y: number) => number[];
  palette?: [number, number, number][];
  /** Raw tRNS chunk data. */
  trns?: number[];
  /** Filter type per row; default cycles 0–4 so every filter is exercised. */
  filter?: (y: number) => 0 | 1 | 2 | 3 | 4;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

export function encodePng(spec: PngSpec): Uint8Array {
  const depth = spec.depth ?? 8;
  const channels = CHANNELS[spec.colourType];
  const bitsPerPixel = channels * depth;
  const rowBytes = Math.ceil((spec.width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const filtered = Buffer.alloc(spec.height * (rowBytes + 1));
  let previous = Buffer.alloc(rowBytes);
  for (let y = 0; y < spec.height; y++) {
    const row = Buffer.alloc(rowBytes);
    for (let x = 0; x < spec.width; x++) {
      spec.pixel(x, y).forEach((sample, k) => {
        const bit = (x * channels + k) * depth;
        if (depth === 16) row.writeUInt16BE(sample, bit / 8);
        else if (depth === 8) row[bit / 8] = sample;
        else row[bit >> 3]! |= sample << (8 - depth - (bit & 7));
      });
    }
    const type = spec.filter?.(y) ?? ((y % 5) as 0 | 1 | 2 | 3 | 4);
    const out = filtered.subarray(y * (rowBytes + 1), (y + 1) * (rowBytes + 1));
    out[0] = type;
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? row[i - bpp]! : 0;
      const b = previous[i]!;
      const c = i >= bpp ? previous[i - bpp]! : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type]!;
      out[i + 1] = (row[i]! - predictor) & 255;
    }
    previous = row;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr.set([depth, spec.colourType, 0, 0, 0], 8);
  const chunks = [chunk("IHDR", ihdr)];
  if (spec.palette) chunks.push(chunk("PLTE", Buffer.from(spec.palette.flat())));
  if (spec.trns) chunks.push(chunk("tRNS", Buffer.from(spec.trns)));
  chunks.push(chunk("IDAT", deflateSync(filtered)), chunk("IEND", Buffer.alloc(0)));
  return new Uint8Array(Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), ...chunks]));
}

export function dataURL(bytes: Uint8Array, type: string): string {
  return `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
