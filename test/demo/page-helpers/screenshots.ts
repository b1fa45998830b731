// Visual regression for the demo page: each screenshot a test takes is compared with the one committed in
// demo/screenshots/ (the README shows them). Both PNGs are decoded in Chromium (createImageBitmap + a canvas: no
// image library), and the test fails when more than a small share of pixels changed by more than the antialiasing
// of text does. UPDATE_SCREENSHOTS=1 rewrites the committed files instead, deliberately. Every run also leaves what
// it saw in .ci-out/screenshots/ (and, for a mismatch, a picture of the difference beside it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";

export const COMMITTED = join(import.meta.dirname, "../../../demo/screenshots");
export const ACTUAL = join(import.meta.dirname, "../../../.ci-out/screenshots");
export const UPDATE = Boolean(process.env.UPDATE_SCREENSHOTS);

/**
 * A pixel counts as changed when one of its channels moved by more than this (of 255). Text antialiasing and
 * subpixel positioning move edge pixels by less; a different colour, a moved or missing element moves them by more.
 */
export const CHANNEL_TOLERANCE = 64;
/** A screenshot matches when at most this share of its pixels changed (0.3%: about 3,100 pixels at 1280×820). */
export const MAX_CHANGED = 0.003;

export interface Difference {
  width: number;
  height: number;
  /** Pixels that changed by more than CHANNEL_TOLERANCE. */
  changed: number;
  /** The same size problem, if the two are not the same size. */
  size?: string;
  /** A PNG: changed pixels red over a faded copy of the new screenshot. */
  diff?: Uint8Array;
}

let decoder: Page | undefined;

/** A region left out of the comparison, in CSS pixels of the screenshot. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Compare two PNGs in a blank page of `browser` (opened once, reused), leaving out the pixels in `ignore`. */
export async function comparePngs(browser: Browser, expected: Uint8Array, actual: Uint8Array, ignore: readonly Rect[] = [], tolerance = CHANNEL_TOLERANCE): Promise<Difference> {
  if (!decoder || decoder.isClosed() || decoder.context().browser() !== browser) decoder = await browser.newPage();
  const result = await decoder.evaluate(
    async ([a, b, ignore, tolerance]) => {
      const decode = async (base64: string) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext("2d", { willReadFrequently: true })!;
        context.drawImage(bitmap, 0, 0);
        return context.getImageData(0, 0, bitmap.width, bitmap.height);
      };
      const [before, after] = await Promise.all([decode(a as string), decode(b as string)]);
      if (before.width !== after.width || before.height !== after.height) {
        return { width: after.width, height: after.height, changed: after.width * after.height, size: `${before.width}×${before.height} committed, ${after.width}×${after.height} now` };
      }
      const out = new ImageData(after.width, after.height);
      const skip = new Uint8Array(after.width * after.height);
      for (const r of ignore as Rect[]) {
        for (let y = Math.max(0, Math.floor(r.y)); y < Math.min(after.height, Math.ceil(r.y + r.height)); y++) {
          skip.fill(1, y * after.width + Math.max(0, Math.floor(r.x)), y * after.width + Math.min(after.width, Math.ceil(r.x + r.width)));
        }
      }
      let changed = 0;
      const x = before.data;
      const y = after.data;
      for (let i = 0; i < x.length; i += 4) {
        if (skip[i >> 2]) {
          out.data.set([176, 176, 184, 255], i);
          continue;
        }
        const delta = Math.max(Math.abs(x[i]! - y[i]!), Math.abs(x[i + 1]! - y[i + 1]!), Math.abs(x[i + 2]! - y[i + 2]!), Math.abs(x[i + 3]! - y[i + 3]!));
        if (delta > (tolerance as number)) {
          changed++;
          out.data.set([255, 0, 0, 255], i);
        } else {
          const grey = 255 - ((255 - (y[i]! + y[i + 1]! + y[i + 2]!) / 3) >> 2);
          out.data.set([grey, grey, grey, 255], i);
        }
      }
      let diff: string | undefined;
      if (changed > 0) {
        const canvas = new OffscreenCanvas(after.width, after.height);
        canvas.getContext("2d")!.putImageData(out, 0, 0);
        const png = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
        let binary = "";
        for (let i = 0; i < png.length; i += 0x8000) binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
        diff = btoa(binary);
      }
      return { width: after.width, height: after.height, changed, diff };
    },
    [Buffer.from(expected).toString("base64"), Buffer.from(actual).toString("base64"), ignore, tolerance] as const,
  );
  return { ...result, ...(result.diff !== undefined && { diff: Buffer.from(result.diff, "base64") }) } as Difference;
}

export interface ShotOptions {
  /**
   * Parts that differ from run to run by design (relative times, text still streaming): left out of the comparison.
   * The screenshot itself shows them (the README's pictures have no holes).
   */
  ignore?: Locator[];
}

/**
 * Take a screenshot of `page` and compare it with demo/screenshots/<name>.png; with UPDATE_SCREENSHOTS=1, write it
 * there instead.
 */
export async function matchScreenshot(page: Page, name: string, options: ShotOptions = {}): Promise<void> {
  await page.mouse.move(0, 0); // no hover highlight on whatever was clicked last
  const png = await page.screenshot({ animations: "disabled", caret: "hide" });
  const ignore = await boxes(options.ignore ?? []);
  mkdirSync(ACTUAL, { recursive: true });
  writeFileSync(join(ACTUAL, `${name}.png`), png);
  const committed = join(COMMITTED, `${name}.png`);
  if (UPDATE) {
    writeFileSync(committed, png);
    return;
  }
  if (!existsSync(committed)) throw new Error(`demo/screenshots/${name}.png is missing: run the test with UPDATE_SCREENSHOTS=1 to take it, and commit it.`);
  const browser = page.context().browser()!;
  const difference = await comparePngs(browser, readFileSync(committed), png, ignore);
  assertMatches(name, difference);
}

/** Where the elements of `locators` are on the page. */
export async function boxes(locators: readonly Locator[]): Promise<Rect[]> {
  const found: Rect[] = [];
  for (const locator of locators) {
    for (const one of await locator.all()) {
      const box = await one.boundingBox();
      if (box) found.push(box);
    }
  }
  return found;
}

/** Throws, naming the files to look at, when `difference` is over the threshold. */
export function assertMatches(name: string, difference: Difference): void {
  const pixels = difference.width * difference.height;
  if (difference.size === undefined && difference.changed <= pixels * MAX_CHANGED) return;
  if (difference.diff) {
    mkdirSync(ACTUAL, { recursive: true });
    writeFileSync(join(ACTUAL, `${name}.diff.png`), difference.diff);
  }
  const what = difference.size ?? `${difference.changed} of ${pixels} pixels changed (${((difference.changed / pixels) * 100).toFixed(2)}%; at most ${(MAX_CHANGED * 100).toFixed(1)}% may)`;
  throw new Error(
    `Screenshot ${name} differs from demo/screenshots/${name}.png: ${what}. See .ci-out/screenshots/${name}.png` +
      `${difference.diff ? ` and ${name}.diff.png` : ""}. If the change is intended, run with UPDATE_SCREENSHOTS=1 and commit the new screenshot.`,
  );
}
