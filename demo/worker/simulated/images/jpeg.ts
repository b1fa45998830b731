import { formatInt } from "../format.js";
import { ColourHistogram } from "./colour.js";
import { BitReader, buildHuffman, CorruptError, type Huffman, skipEntropyData } from "./jpeg-entropy.js";
import { type ImageFacts, MAX_PIXELS, u16be } from "./types.js";

// A DC-only JPEG decoder: enough for a dominant colour. The DC coefficient of an 8×8 block is 8 × the
// block's mean sample (level-shifted), so entropy-decoding the DC terms (and skipping the AC terms) gives
// every block's average colour without any inverse DCT. Baseline and extended sequential (SOF0/SOF1,
// 8 or 12 bit) and progressive (SOF2, from its first DC scan) Huffman JPEGs; greyscale, YCbCr, Adobe RGB;
// any chroma subsampling; restart intervals. Size comes from the SOF marker of any kind of JPEG.

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  dc: Float64Array;
  hasDC: boolean;
  pred: number;
  dcTable?: Huffman | undefined;
  acTable?: Huffman | undefined;
}

interface Frame {
  kind: number;
  precision: number;
  width: number;
  height: number;
  components: Component[];
  hmax: number;
  vmax: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

const SOF_NAMES: Record<number, string> = {
  0xc0: "baseline",
  0xc1: "extended sequential",
  0xc2: "progressive",
  0xc3: "lossless",
  0xc5: "differential sequential",
  0xc6: "differential progressive",
  0xc7: "differential lossless",
  0xc9: "arithmetic sequential",
  0xca: "arithmetic progressive",
  0xcb: "arithmetic lossless",
  0xcd: "differential arithmetic sequential",
  0xce: "differential arithmetic progressive",
  0xcf: "differential arithmetic lossless",
};

export function isJpeg(b: Uint8Array): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

export function inspectJpeg(bytes: Uint8Array, colour = true): ImageFacts {
  const facts: ImageFacts = { format: "JPEG", unknown: [] };
  const quant: (number | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let adobeTransform: number | undefined;
  let colourProblem: string | undefined;
  let sawEnd = false;

  try {
    let pos = 2;
    while (pos + 1 < bytes.length) {
      if (bytes[pos] !== 0xff) {
        pos++;
        continue;
      }
      const marker = bytes[pos + 1]!;
      if (marker === 0xff) {
        pos++;
        continue;
      }
      pos += 2;
      if (marker === 0xd9) {
        sawEnd = true;
        break;
      }
      if (marker === 0x00 || marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) continue;
      const length = u16be(bytes, pos);
      if (length < 2 || pos + length > bytes.length) break;
      const seg = bytes.subarray(pos + 2, pos + length);
      pos += length;
      if (marker === 0xdb) readQuantTables(seg, quant);
      else if (marker === 0xc4) readHuffmanTables(seg, dcTables, acTables);
      else if (marker === 0xdd) restartInterval = u16be(seg, 0);
      else if (marker === 0xee && String.fromCharCode(...seg.subarray(0, 5)) === "Adobe") adobeTransform = seg[11];
      else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (frame) continue; // hierarchical files have several frames: the first one gives the size
        frame = readFrame(marker, seg);
        facts.width = frame.width;
        facts.height = frame.height;
        facts.detail = `${SOF_NAMES[marker] ?? "unknown kind"}, ${frame.precision}-bit, ${describeComponents(frame)}`;
        if (frame.height === 0) colourProblem = "the height is only given after the image data (DNL marker)";
        else if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) colourProblem = `${SOF_NAMES[marker] ?? "this kind of"} JPEGs are not decoded here`;
        else if (frame.width * frame.height > MAX_PIXELS) colourProblem = `the image is larger than the simulator decodes (${formatInt(MAX_PIXELS)} pixels)`;
        else if (frame.components.length === 4) colourProblem = "CMYK/YCCK JPEGs are not converted to RGB here";
        else if (frame.components.length !== 1 && frame.components.length !== 3) colourProblem = `${frame.components.length}-component JPEGs are not supported`;
        if (!colour) return facts;
      } else if (marker === 0xda) {
        if (!frame) throw new CorruptError("image data before the frame header");
        pos = colourProblem ? skipEntropyData(bytes, pos) : decodeScan(bytes, pos, seg, frame, dcTables, acTables, restartInterval);
      }
    }
  } catch (error) {
    if (!(error instanceof CorruptError)) throw error;
    colourProblem ??= `the data is corrupt (${error.message})`;
  }

  if (!frame) {
    facts.unknown.push("size and colour: no frame header (SOF marker) was found");
    return facts;
  }
  if (!colourProblem && !sawEnd) colourProblem = "the file is truncated (no end-of-image marker)";
  if (!colourProblem && frame.components.some((c) => !c.hasDC)) colourProblem = "a colour component has no image data";
  if (!colourProblem && frame.components.some((c) => quant[c.tq] === undefined)) colourProblem = "a quantization table is missing";
  if (colourProblem) {
    facts.unknown.push(`dominant colour: ${colourProblem}`);
    return facts;
  }
  facts.colour = blockColours(frame, quant, adobeTransform);
  return facts;
}

function describeComponents(frame: Frame): string {
  const n = frame.components.length;
  if (n === 1) return "greyscale";
  if (n !== 3) return `${n} components`;
  const [y, cb, cr] = frame.components;
  if (cb!.h === cr!.h && cb!.v === cr!.v) {
    const subsampling = y!.h === 2 * cb!.h && y!.v === 2 * cb!.v ? "4:2:0" : y!.h === 2 * cb!.h && y!.v === cb!.v ? "4:2:2" : y!.h === cb!.h && y!.v === cb!.v ? "4:4:4" : undefined;
    if (subsampling) return `3 components, ${subsampling}`;
  }
  return "3 components";
}

function readQuantTables(seg: Uint8Array, quant: (number | undefined)[]): void {
  for (let i = 0; i < seg.length; ) {
    const wide = seg[i]! >> 4;
    const id = seg[i]! & 15;
    // Only entry 0 (the DC step) matters here; it is first in zigzag order too.
    quant[id] = wide ? u16be(seg, i + 1) : seg[i + 1]!;
    i += 1 + 64 * (wide ? 2 : 1);
  }
}

function readHuffmanTables(seg: Uint8Array, dc: (Huffman | undefined)[], ac: (Huffman | undefined)[]): void {
  for (let i = 0; i + 17 <= seg.length; ) {
    const tableClass = seg[i]! >> 4;
    const id = seg[i]! & 15;
    const counts = seg.subarray(i + 1, i + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    const values = seg.subarray(i + 17, i + 17 + total);
    (tableClass === 0 ? dc : ac)[id] = buildHuffman(counts, values);
    i += 17 + total;
  }
}

function readFrame(kind: number, seg: Uint8Array): Frame {
  const precision = seg[0]!;
  const height = u16be(seg, 1);
  const width = u16be(seg, 3);
  const count = seg[5]!;
  const components: Component[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + 3 * i;
    const h = seg[at + 1]! >> 4 || 1;
    const v = seg[at + 1]! & 15 || 1;
    components.push({ id: seg[at]!, h, v, tq: seg[at + 2]! & 3, blocksPerLine: 0, blocksPerColumn: 0, dc: new Float64Array(0), hasDC: false, pred: 0 });
  }
  const hmax = Math.max(1, ...components.map((c) => c.h));
  const vmax = Math.max(1, ...components.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hmax));
  const mcusPerColumn = Math.ceil(height / (8 * vmax));
  if (width * height <= MAX_PIXELS) {
    for (const c of components) {
      c.blocksPerLine = mcusPerLine * c.h;
      c.blocksPerColumn = mcusPerColumn * c.v;
      c.dc = new Float64Array(c.blocksPerLine * c.blocksPerColumn);
    }
  }
  return { kind, precision, width, height, components, hmax, vmax, mcusPerLine, mcusPerColumn };
}

function decodeScan(
  data: Uint8Array,
  pos: number,
  header: Uint8Array,
  frame: Frame,
  dcTables: (Huffman | undefined)[],
  acTables: (Huffman | undefined)[],
  restartInterval: number,
): number {
  const count = header[0]!;
  const scan: Component[] = [];
  for (let i = 0; i < count; i++) {
    const c = frame.components.find((x) => x.id === header[1 + 2 * i]);
    if (!c) throw new CorruptError("a scan names an unknown component");
    c.dcTable = dcTables[header[2 + 2 * i]! >> 4];
    c.acTable = acTables[header[2 + 2 * i]! & 15];
    scan.push(c);
  }
  const ss = header[1 + 2 * count]!;
  const ah = header[3 + 2 * count]! >> 4;
  const al = header[3 + 2 * count]! & 15;
  const progressive = frame.kind === 0xc2;
  // Progressive: only the first DC scan is read (refinements add the DC's low `al` bits, AC scans detail).
  if (progressive && (ss !== 0 || ah !== 0)) return skipEntropyData(data, pos);

  const bits = new BitReader(data, pos);
  const decodeBlock = (c: Component, row: number, col: number) => {
    if (!c.dcTable || (!progressive && !c.acTable)) throw new CorruptError("a Huffman table is missing");
    c.pred += bits.receiveExtend(bits.decode(c.dcTable));
    if (row < c.blocksPerColumn && col < c.blocksPerLine) c.dc[row * c.blocksPerLine + col] = c.pred * (progressive ? 1 << al : 1);
    if (progressive) return;
    for (let k = 1; k < 64; ) {
      const rs = bits.decode(c.acTable!);
      const size = rs & 15;
      const run = rs >> 4;
      if (size === 0) {
        if (run < 15) break; // end of block
        k += 16;
        continue;
      }
      k += run;
      bits.bits(size);
      k++;
    }
  };

  const single = scan.length === 1 ? scan[0]! : undefined;
  // A one-component scan is not interleaved: its "MCU" is one block, over the blocks that cover the image only.
  const perLine = single ? Math.ceil(Math.ceil((frame.width * single.h) / frame.hmax) / 8) : frame.mcusPerLine;
  const lines = single ? Math.ceil(Math.ceil((frame.height * single.v) / frame.vmax) / 8) : frame.mcusPerColumn;
  for (const c of scan) c.pred = 0;
  const total = perLine * lines;
  for (let n = 0; n < total; n++) {
    if (restartInterval > 0 && n > 0 && n % restartInterval === 0) {
      bits.restart();
      for (const c of scan) c.pred = 0;
    }
    // Truncated or corrupt data reads as endless zeros: stop instead of decoding garbage for every block left.
    if (bits.overrun > 64) throw new CorruptError("the image data ends early");
    const row = Math.floor(n / perLine);
    const col = n % perLine;
    if (single) decodeBlock(single, row, col);
    else {
      for (const c of scan) {
        for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) decodeBlock(c, row * c.v + v, col * c.h + h);
      }
    }
  }
  for (const c of scan) c.hasDC = true;
  return skipEntropyData(data, bits.pos);
}

/** Each 8×8 cell of the image gets the DC (mean) of the block covering it in every component. */
function blockColours(frame: Frame, quant: (number | undefined)[], adobeTransform: number | undefined) {
  const histogram = new ColourHistogram();
  const { width, height, components, hmax, vmax } = frame;
  const centre = 1 << (frame.precision - 1);
  const to8 = frame.precision === 8 ? 1 : 1 / (1 << (frame.precision - 8));
  const ids = components.map((c) => c.id).join(",");
  const rgb = components.length === 3 && (adobeTransform === 0 || ids === "82,71,66");
  const mean = (c: Component, cy: number, cx: number) => {
    const row = Math.min(c.blocksPerColumn - 1, Math.floor((cy * c.v) / vmax));
    const col = Math.min(c.blocksPerLine - 1, Math.floor((cx * c.h) / hmax));
    return ((c.dc[row * c.blocksPerLine + col]! * quant[c.tq]!) / 8 + centre) * to8;
  };
  for (let cy = 0; cy * 8 < height; cy++) {
    for (let cx = 0; cx * 8 < width; cx++) {
      const weight = Math.min(8, width - cx * 8) * Math.min(8, height - cy * 8);
      if (components.length === 1) {
        const g = clamp(mean(components[0]!, cy, cx));
        histogram.add(g, g, g, 255, weight);
        continue;
      }
      const a = mean(components[0]!, cy, cx);
      const b = mean(components[1]!, cy, cx);
      const c = mean(components[2]!, cy, cx);
      if (rgb) histogram.add(clamp(a), clamp(b), clamp(c), 255, weight);
      else histogram.add(clamp(a + 1.402 * (c - 128)), clamp(a - 0.344136 * (b - 128) - 0.714136 * (c - 128)), clamp(a + 1.772 * (b - 128)), 255, weight);
    }
  }
  return histogram.result();
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
