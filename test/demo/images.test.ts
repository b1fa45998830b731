// The simulated model's image facts, checked in Node against images made by other encoders (fixtures) and by
// the test's own PNG encoder. worker.test.ts and simulated.test.ts run the same code inside workerd.
import { describe, expect, it } from "vitest";
import { colourName } from "../../demo/worker/simulated/images/colour.ts";
import { lzwDecode } from "../../demo/worker/simulated/images/gif.ts";
import { inspectBytes, inspectImageURL } from "../../demo/worker/simulated/images/inspect.ts";
import type { ImageFacts } from "../../demo/worker/simulated/images/types.ts";
import { type Fixture, fixtures } from "./fixtures/images.ts";
import { dataURL, encodePng } from "./helpers/png.ts";

const bytesOf = (f: Fixture) => new Uint8Array(Buffer.from(f.base64, "base64"));
const rgbOf = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

function expectColour(facts: ImageFacts, rgb: number[], share: number, tolerance = 4) {
  expect(facts.unknown).toEqual([]);
  const colour = facts.colour!;
  rgbOf(colour.hex).forEach((v, i) => expect(Math.abs(v - rgb[i]!), `${colour.hex} vs ${rgb}`).toBeLessThanOrEqual(tolerance));
  expect(colour.share).toBeCloseTo(share, 2);
}

describe("fixtures from other encoders", () => {
  for (const [name, f] of Object.entries(fixtures) as [string, Fixture][]) {
    it(`${name}: ${f.description}`, async () => {
      const facts = await inspectBytes(bytesOf(f));
      expect({ width: facts.width, height: facts.height }).toEqual({ width: f.width, height: f.height });
      if (f.rgb) {
        expectColour(facts, f.rgb, f.share!, name.startsWith("jpeg") ? 4 : 0);
        expect(facts.colour!.transparent).toBeCloseTo(f.transparent ?? 0, 3);
      } else {
        expect(facts.colour).toBeUndefined();
        expect(facts.unknown.join(" ")).toMatch(/dominant colour: .+/);
      }
    });
  }

  it("describes what it read", async () => {
    expect((await inspectBytes(bytesOf(fixtures.jpegBaseline420))).detail).toBe("baseline, 8-bit, 3 components, 4:2:0");
    expect((await inspectBytes(bytesOf(fixtures.jpegProgressive))).detail).toMatch(/^progressive, 8-bit/);
    expect((await inspectBytes(bytesOf(fixtures.jpegGrey))).detail).toMatch(/greyscale$/);
    expect((await inspectBytes(bytesOf(fixtures.jpegArithmetic))).unknown).toEqual(["dominant colour: arithmetic sequential JPEGs are not decoded here"]);
    expect((await inspectBytes(bytesOf(fixtures.pngInterlacedRgba))).detail).toBe("8-bit RGBA, interlaced (Adam7)");
    expect((await inspectBytes(bytesOf(fixtures.webpAlpha))).detail).toBe("extended (VP8X), with alpha");
    expect((await inspectBytes(bytesOf(fixtures.webpLossless))).detail).toBe("lossless (VP8L)");
  });
});

describe("PNG colour types, depths and filters (test encoder, real zlib)", () => {
  const red = [230, 20, 40];
  const blue = [10, 60, 250];
  // 70 % red on the left, blue on the right; every row uses a different filter (0–4).
  const split = (x: number) => (x < 21 ? red : blue);

  it("RGB 8-bit with all five filters", async () => {
    const facts = await inspectBytes(encodePng({ width: 30, height: 11, colourType: 2, pixel: split }));
    expect([facts.width, facts.height, facts.detail]).toEqual([30, 11, "8-bit RGB"]);
    expectColour(facts, red, 0.7, 0);
  });

  it("RGBA 16-bit, half transparent", async () => {
    const facts = await inspectBytes(
      encodePng({ width: 8, height: 8, colourType: 6, depth: 16, pixel: (_x, y) => (y < 4 ? [0x1234, 0xabcd, 0xff00, 0xffff] : [0, 0, 0, 0]) }),
    );
    expectColour(facts, [0x12, 0xab, 0xff], 1, 0);
    expect(facts.colour?.transparent).toBe(0.5);
  });

  for (const depth of [1, 2, 4, 8, 16] as const) {
    it(`greyscale ${depth}-bit`, async () => {
      const max = 2 ** depth - 1;
      const facts = await inspectBytes(encodePng({ width: 13, height: 5, colourType: 0, depth, pixel: (x) => [x < 10 ? max : 0] }));
      expectColour(facts, [255, 255, 255], 10 / 13, 0);
    });
  }

  for (const depth of [1, 2, 4, 8] as const) {
    it(`palette ${depth}-bit with tRNS`, async () => {
      const palette: [number, number, number][] = [
        [0, 0, 0],
        [40, 200, 90],
      ];
      const facts = await inspectBytes(
        encodePng({ width: 17, height: 3, colourType: 3, depth, palette, trns: [0], pixel: (x) => [x < 5 ? 0 : 1] }),
      );
      expectColour(facts, [40, 200, 90], 1, 0);
      expect(facts.colour?.transparent).toBeCloseTo(5 / 17, 5);
    });
  }

  it("grey + alpha, and an RGB colour key (tRNS)", async () => {
    const ga = await inspectBytes(encodePng({ width: 4, height: 4, colourType: 4, pixel: (x) => [99, x === 0 ? 0 : 255] }));
    expectColour(ga, [99, 99, 99], 1, 0);
    expect(ga.colour?.transparent).toBe(0.25);
    const keyed = await inspectBytes(
      encodePng({ width: 4, height: 1, colourType: 2, trns: [0, 1, 0, 2, 0, 3], pixel: (x) => (x === 0 ? [5, 6, 7] : [1, 2, 3]) }),
    );
    expectColour(keyed, [5, 6, 7], 1, 0);
    expect(keyed.colour?.transparent).toBe(0.75);
  });

  it("a decompression bomb: the size is reported, nothing huge is inflated", async () => {
    const png = encodePng({ width: 1, height: 1, colourType: 0, pixel: () => [0] });
    // Rewrite IHDR to claim 100 000 × 100 000 pixels (the CRC is not checked, like most decoders).
    new DataView(png.buffer).setUint32(16, 100_000);
    new DataView(png.buffer).setUint32(20, 100_000);
    const facts = await inspectBytes(png);
    expect([facts.width, facts.height]).toEqual([100_000, 100_000]);
    expect(facts.unknown).toEqual(["dominant colour: the image is larger than the simulator decodes (40,000,000 pixels)"]);
  });

  it("truncated and corrupt files say what is unknown instead of guessing", async () => {
    const png = encodePng({ width: 30, height: 11, colourType: 2, pixel: split });
    const truncated = await inspectBytes(png.subarray(0, 60));
    expect([truncated.width, truncated.height]).toEqual([30, 11]);
    expect(truncated.unknown).toEqual(["dominant colour: the file is truncated (no IEND chunk)"]);

    const corrupt = png.slice();
    corrupt.fill(0x55, 45, 60); // inside IDAT
    expect((await inspectBytes(corrupt)).unknown[0]).toMatch(/^dominant colour: the image data could not be decoded/);

    const jpeg = bytesOf(fixtures.jpegBaseline420);
    const cut = await inspectBytes(jpeg.subarray(0, jpeg.length - 40));
    expect([cut.width, cut.height]).toEqual([37, 23]);
    expect(cut.unknown).toEqual(["dominant colour: the file is truncated (no end-of-image marker)"]);

    expect((await inspectBytes(new Uint8Array([1, 2, 3, 4]))).unknown).toEqual([
      "format, size and colour: the bytes are not an image format the simulator recognises",
    ]);
  });
});

describe("colour names", () => {
  it("names colours as people would, including the ones between the basic names", () => {
    const cases: [string, [number, number, number]][] = [
      ["salmon", [242, 133, 118]],
      ["coral", [250, 122, 78]],
      ["tan", [205, 175, 135]],
      ["sky blue", [130, 200, 235]],
      ["navy", [10, 15, 120]],
      ["dark green", [10, 85, 15]],
      ["lavender", [205, 195, 240]],
      ["grey", [125, 128, 130]],
      ["white", [250, 250, 248]],
      ["black", [8, 8, 10]],
      ["red", [215, 25, 25]],
      ["gold", [250, 195, 10]],
    ];
    expect(cases.map(([, rgb]) => colourName(rgb))).toEqual(cases.map(([name]) => name));
  });
});

describe("damaged files", () => {
  it("never throw or hang: every fixture, cut short and with random bytes changed, 60 times each", async () => {
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const [name, f] of Object.entries(fixtures) as [string, Fixture][]) {
      const original = bytesOf(f);
      for (let run = 0; run < 60; run++) {
        const bytes = original.slice(0, run % 3 === 0 ? Math.floor(random() * original.length) : original.length);
        for (let k = 0; k <= run % 5; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        const started = Date.now();
        const facts = await inspectBytes(bytes).catch((error: unknown) => expect.fail(`${name}, run ${run}: ${String(error)}`));
        expect(Date.now() - started, `${name}, run ${run}`).toBeLessThan(2000);
        expect(facts.colour !== undefined || facts.unknown.length > 0, `${name}, run ${run}: colour or a reason`).toBe(true);
      }
    }
  });
});

describe("image URLs", () => {
  it("reads data: URLs and notes the declared type", async () => {
    const facts = await inspectImageURL(dataURL(bytesOf(fixtures.pngPalette), "image/jpeg"));
    expect(facts).toMatchObject({ source: "data URL", declaredType: "image/jpeg", format: "PNG", width: 40, height: 30 });
  });

  it("does not download remote images", async () => {
    expect(await inspectImageURL("https://example.com/cat.png")).toEqual({
      source: "remote URL",
      host: "example.com",
      unknown: ["size and colour: the simulator does not download images, only reads data: URLs"],
    });
  });

  it("reports invalid base64", async () => {
    expect((await inspectImageURL("data:image/png;base64,@@@@")).unknown).toEqual(["size and colour: the data URL's base64 is invalid"]);
  });
});

describe("GIF LZW", () => {
  it("decodes the KwKwK case and stops at the limit", () => {
    // "aaaaaa" with min code size 2: clear(4), 0, 6 (=aa, KwKwK), 7 (=aaa), end(5). 3-bit codes, LSB first.
    const codes = [4, 0, 6, 7, 5];
    let bits = 0;
    let n = 0;
    const bytes: number[] = [];
    for (const code of codes) {
      bits |= code << n;
      n += 3;
      while (n >= 8) {
        bytes.push(bits & 255);
        bits >>= 8;
        n -= 8;
      }
    }
    if (n > 0) bytes.push(bits & 255);
    expect([...lzwDecode(new Uint8Array(bytes), 2, 100)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...lzwDecode(new Uint8Array(bytes), 2, 4)]).toEqual([0, 0, 0, 0]);
  });
});
