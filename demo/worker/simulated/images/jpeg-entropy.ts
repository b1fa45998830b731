// JPEG's entropy-coded data: Huffman tables (ITU T.81 Annex F.2.2.3), a bit reader that removes stuffed bytes, markers.

export class CorruptError extends Error {}

export interface Huffman {
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

/** The decoding tables of ITU T.81 Annex F.2.2.3 (MAXCODE, VALPTR, MINCODE). */
export function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1]!;
    valptr[length] = k;
    mincode[length] = code;
    code += n;
    k += n;
    if (n > 0) maxcode[length] = code - 1;
    code <<= 1;
  }
  return { maxcode, valptr, mincode, values };
}

/** Reads entropy-coded bits, MSB first, removing stuffed zero bytes; at a marker it stops and yields zeros. */
export class BitReader {
  pos: number;
  /** Bits asked for past the end of the data (a marker or the end of the file), which read as zeros. */
  overrun = 0;
  #byte = 0;
  #left = 0;
  constructor(
    readonly data: Uint8Array,
    pos: number,
  ) {
    this.pos = pos;
  }

  bit(): number {
    if (this.#left === 0) {
      const b = this.data[this.pos];
      if (b === undefined || (b === 0xff && this.data[this.pos + 1] !== 0)) {
        // A marker (or the end): the scan or this restart interval ended. Valid data never reads past it.
        this.overrun++;
        return 0;
      }
      this.pos += b === 0xff ? 2 : 1; // 0xFF 0x00 is a stuffed 0xFF
      this.#byte = b;
      this.#left = 8;
    }
    this.#left--;
    return (this.#byte >> this.#left) & 1;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  decode(table: Huffman): number {
    let code = 0;
    for (let length = 1; length <= 16; length++) {
      code = (code << 1) | this.bit();
      if (code <= table.maxcode[length]!) return table.values[table.valptr[length]! + code - table.mincode[length]!] ?? 0;
    }
    throw new CorruptError("an invalid Huffman code");
  }

  /** RECEIVE + EXTEND: an `n`-bit magnitude category to a signed value. */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    if (n > 16) throw new CorruptError("a coefficient wider than 16 bits");
    const v = this.bits(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  /** At a restart marker: drop the partial byte and step over RSTn. */
  restart(): void {
    this.#left = 0;
    this.overrun = 0;
    while (this.data[this.pos] === 0xff && this.data[this.pos + 1] === 0xff) this.pos++;
    const marker = this.data[this.pos + 1] ?? 0;
    if (this.data[this.pos] === 0xff && marker >= 0xd0 && marker <= 0xd7) this.pos += 2;
  }
}

/** The position of the next marker that is not a restart marker (the end of a scan's entropy-coded data). */
export function skipEntropyData(data: Uint8Array, pos: number): number {
  for (let i = pos; i + 1 < data.length; i++) {
    if (data[i] !== 0xff) continue;
    const next = data[i + 1]!;
    if (next !== 0 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) return i;
  }
  return data.length;
}
