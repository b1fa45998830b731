import type { DominantColour } from "./colour.js";

/** What the simulator could compute about one image, and what it could not (with the reason). */
export interface ImageFacts {
  format?: string;
  width?: number;
  height?: number;
  /** e.g. "8-bit RGBA, interlaced" or "progressive, 4:2:0". */
  detail?: string;
  colour?: DominantColour | undefined;
  /** Things it could not determine, each with why, e.g. "dominant colour: WebP pixels are not decoded here". */
  unknown: string[];
}

/** Colour is not decoded past this many pixels: a Worker's CPU time is short. */
export const MAX_PIXELS = 40_000_000;
/** Nor when the decoded data would take more memory than this (a Worker has 128 MB). */
export const MAX_DECODED_BYTES = 32 * 1024 * 1024;

export const u16be = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
export const u16le = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
export const u24le = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16);
export const u32be = (b: Uint8Array, i: number) => (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
export const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));
