import { ColourHistogram } from "./colour.js";
import { ascii, type ImageFacts, MAX_DECODED_BYTES, u16le } from "./types.js";

export function isGif(b: Uint8Array): boolean {
  const magic = ascii(b, 0, 6);
  return magic === "GIF87a" || magic === "GIF89a";
}

/** Size from the logical screen; colour from an LZW decode of the first frame through its colour table. */
export function inspectGif(bytes: Uint8Array, colour = true): ImageFacts {
  const facts: ImageFacts = { format: "GIF", unknown: [] };
  if (bytes.length < 13) {
    facts.unknown.push("size and colour: the file is truncated");
    return facts;
  }
  facts.width = u16le(bytes, 6);
  facts.height = u16le(bytes, 8);
  if (!colour) return facts;
  const flags = bytes[10]!;
  let pos = 13;
  let globalTable: Uint8Array | undefined;
  if (flags & 0x80) {
    const size = 3 * (2 << (flags & 7));
    globalTable = bytes.subarray(pos, pos + size);
    pos += size;
  }
  let transparentIndex: number | undefined;
  let frames = 0;
  let colourProblem: string | undefined;
  let first: { indices: Uint8Array; table: Uint8Array | undefined; transparent: number | undefined } | undefined;

  while (pos < bytes.length) {
    const block = bytes[pos]!;
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      const label = bytes[pos + 1];
      pos += 2;
      if (label === 0xf9 && bytes[pos]! >= 4) transparentIndex = bytes[pos + 1]! & 1 ? bytes[pos + 4] : undefined;
      pos = skipSubBlocks(bytes, pos);
      continue;
    }
    if (block !== 0x2c) {
      colourProblem ??= "the file has an unknown block";
      break;
    }
    const width = u16le(bytes, pos + 5);
    const height = u16le(bytes, pos + 7);
    const imageFlags = bytes[pos + 9] ?? 0;
    pos += 10;
    let table = globalTable;
    if (imageFlags & 0x80) {
      const size = 3 * (2 << (imageFlags & 7));
      table = bytes.subarray(pos, pos + size);
      pos += size;
    }
    const minCodeSize = bytes[pos] ?? 0;
    const start = pos + 1;
    pos = skipSubBlocks(bytes, start);
    frames++;
    if (frames === 1) {
      if (width * height > MAX_DECODED_BYTES) colourProblem = "the image is larger than the simulator decodes";
      else if (!table) colourProblem = "the frame has no colour table";
      else if (minCodeSize < 2 || minCodeSize > 11) colourProblem = "the image data is corrupt";
      else {
        const indices = lzwDecode(joinSubBlocks(bytes, start, pos), minCodeSize, width * height);
        if (indices.length < width * height) colourProblem = "the first frame's data is truncated or corrupt";
        else first = { indices, table, transparent: transparentIndex };
      }
    }
    transparentIndex = undefined;
  }
  if (frames > 1) facts.detail = `${frames} frames (animated); colour from the first`;
  if (!first || colourProblem) {
    facts.unknown.push(`dominant colour: ${colourProblem ?? "the file has no image"}`);
    return facts;
  }
  const histogram = new ColourHistogram();
  for (const index of first.indices) {
    const r = first.table![index * 3];
    if (r === undefined) continue;
    histogram.add(r, first.table![index * 3 + 1]!, first.table![index * 3 + 2]!, index === first.transparent ? 0 : 255);
  }
  facts.colour = histogram.result();
  return facts;
}

/** Data sub-blocks: a length byte, that many bytes, …, a zero length. Returns the position after them. */
function skipSubBlocks(bytes: Uint8Array, pos: number): number {
  while (pos < bytes.length) {
    const n = bytes[pos]!;
    pos += 1 + n;
    if (n === 0) break;
  }
  return pos;
}

function joinSubBlocks(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let size = 0;
  for (let pos = start; pos < end; ) {
    const n = bytes[pos]!;
    out.set(bytes.subarray(pos + 1, pos + 1 + n), size);
    size += Math.min(n, Math.max(0, bytes.length - pos - 1));
    pos += 1 + n;
    if (n === 0) break;
  }
  return out.subarray(0, size);
}

/** GIF's variable-width LZW (codes LSB first, up to 12 bits), producing at most `limit` colour indices. */
export function lzwDecode(data: Uint8Array, minCodeSize: number, limit: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const firstOf = new Uint8Array(4096);
  const lengthOf = new Uint16Array(4096);
  for (let i = 0; i < clear; i++) {
    suffix[i] = i;
    firstOf[i] = i;
    lengthOf[i] = 1;
  }
  const out = new Uint8Array(limit);
  let size = 0;
  let codeSize = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let bitBuffer = 0;
  let bitCount = 0;
  for (let i = 0; size < limit; ) {
    while (bitCount < codeSize && i < data.length) {
      bitBuffer |= data[i++]! << bitCount;
      bitCount += 8;
    }
    if (bitCount < codeSize) break;
    const code = bitBuffer & ((1 << codeSize) - 1);
    bitBuffer >>>= codeSize;
    bitCount -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    let entry: number;
    if (code < next) entry = code;
    else if (code === next && previous !== -1) entry = previous;
    else break; // corrupt
    // Emit `entry` (walked backwards from its last symbol), plus, for the KwKwK case, its own first symbol.
    const length = lengthOf[entry]! + (code === next ? 1 : 0);
    const room = Math.min(length, limit - size);
    let p = entry;
    let write = size + length - 1;
    if (code === next) {
      if (write < size + room) out[write] = firstOf[previous]!;
      write--;
    }
    for (; write >= size; write--) {
      if (write < size + room) out[write] = suffix[p]!;
      p = prefix[p]!;
    }
    size += room;
    if (previous !== -1 && next < 4096) {
      prefix[next] = previous;
      suffix[next] = code === next ? firstOf[previous]! : firstOf[code]!;
      firstOf[next] = firstOf[previous]!;
      lengthOf[next] = lengthOf[previous]! + 1;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    previous = code;
  }
  return out.subarray(0, size);
}
