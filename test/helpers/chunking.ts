// Feed the same bytes to a parser in many chunkings: results must never depend on where the network split them.

export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

/** A small seeded PRNG (mulberry32), so random chunkings are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let last = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(bytes.subarray(last, cut));
    last = cut;
  }
  out.push(bytes.subarray(last));
  return out;
}

export function randomChunks(bytes: Uint8Array, random: () => number, maxSize = 7): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxSize);
    out.push(bytes.subarray(i, i + size));
    i += size;
  }
  return out;
}

/** Every chunking worth trying: whole, each two-way split, byte by byte, and seeded random ones. */
export function* chunkings(bytes: Uint8Array, randomRuns = 20): Generator<[string, Uint8Array[]]> {
  yield ["one chunk", [bytes]];
  for (let cut = 1; cut < bytes.length; cut++) yield [`split at ${cut}`, splitAt(bytes, [cut])];
  yield ["byte by byte", Array.from(bytes, (b) => Uint8Array.of(b))];
  const random = rng(bytes.length * 7919 + 1);
  for (let run = 0; run < randomRuns; run++) yield [`random #${run}`, randomChunks(bytes, random)];
}

/** The bytes of `parts`, one after the other. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
