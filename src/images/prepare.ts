import type { ImageContent } from "../messages/types.js";
import { LLAMA_32_VISION_IMAGE, type TileRules } from "../models/presets.js";
import { type ImageInput, imageFromBytes, imageFromURL } from "./input.js";
import { tiledCanvas } from "./tiles.js";

export interface PrepareImageOptions {
  /** The model's tiling; the image is shrunk to the canvas the model would resize it onto. Default Llama 3.2 Vision. */
  tiles?: TileRules;
  /** Re-encoding format where a canvas is available. Default "image/jpeg". */
  type?: "image/jpeg" | "image/webp";
  /** 0–1, default 0.85. */
  quality?: number;
}

interface Canvas2D {
  getContext(kind: "2d"): { drawImage(image: unknown, x: number, y: number, w: number, h: number): void } | null;
  convertToBlob(options: { type: string; quality: number }): Promise<Blob>;
}
type CanvasConstructor = new (width: number, height: number) => Canvas2D;
type Decode = (blob: Blob) => Promise<{ width: number; height: number; close(): void }>;

/**
 * Read an image and, where the platform can (browsers: `createImageBitmap` + `OffscreenCanvas`), shrink
 * it to what the model actually sees and re-encode it, so requests and storage stay small. Elsewhere
 * (Deno, Workers, Node) the bytes pass through unchanged. Unsupported formats throw `UnsupportedImageError`.
 */
export async function prepareImage(input: ImageInput, options: PrepareImageOptions = {}): Promise<ImageContent> {
  const original =
    typeof input === "string"
      ? imageFromURL(input)
      : imageFromBytes(input instanceof Uint8Array ? input : new Uint8Array(input instanceof Blob ? await input.arrayBuffer() : input), input instanceof Blob ? input.type : undefined);
  if (!("data" in original) || original.width === undefined || original.height === undefined) return original;

  const g = globalThis as { createImageBitmap?: Decode; OffscreenCanvas?: CanvasConstructor };
  const decode = g.createImageBitmap;
  const Canvas = g.OffscreenCanvas;
  if (typeof decode !== "function" || typeof Canvas !== "function") return original;

  const target = tiledCanvas({ width: original.width, height: original.height }, options.tiles ?? LLAMA_32_VISION_IMAGE);
  if (target.width >= original.width && target.height >= original.height) return original;

  const bitmap = await decode(new Blob([original.data as Uint8Array<ArrayBuffer>], { type: original.mimeType }));
  try {
    const canvas = new Canvas(target.width, target.height);
    const context = canvas.getContext("2d");
    if (!context) return original;
    context.drawImage(bitmap, 0, 0, target.width, target.height);
    const type = options.type ?? "image/jpeg";
    const blob = await canvas.convertToBlob({ type, quality: options.quality ?? 0.85 });
    const resized = imageFromBytes(new Uint8Array(await blob.arrayBuffer()), blob.type || type);
    // A re-encoded image can come out larger than a small, well-compressed original.
    return resized.type === "image" && "data" in resized && resized.data.length < original.data.length ? resized : original;
  } finally {
    bitmap.close();
  }
}
