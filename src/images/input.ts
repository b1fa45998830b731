import type { ImagePart, TextPart } from "../client/types.js";
import type { ImageContent, MessagePart, TextContent } from "../messages/types.js";
import { EdgeChatError } from "../errors/base.js";
import { parseDataURL } from "../messages/base64.js";
import { imageSize, sniffImageType } from "./size.js";

/** An image as a user hands it over: a Blob/File, raw bytes, or a `data:`/`https:` URL. */
export type ImageInput = Blob | ArrayBuffer | Uint8Array | string;

export interface ImageInputPart {
  type: "image";
  image: ImageInput;
  /** Needed for raw bytes whose type cannot be sniffed; otherwise taken from the Blob, URL or bytes. */
  mimeType?: string;
}

/** What `send` accepts: a string, or parts — text, images in any input form, or the API's own `image_url` parts. */
export type ContentInput = string | readonly (TextPart | TextContent | ImageInputPart | ImageContent | ImagePart)[];

export const SUPPORTED_IMAGE_TYPES: readonly string[] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

export class UnsupportedImageError extends EdgeChatError {
  static override readonly kind: string = "UnsupportedImageError";
  readonly mimeType: string | undefined;
  constructor(mimeType: string | undefined, detail = "") {
    super(
      `Unsupported image${mimeType ? ` type "${mimeType}"` : ""}${detail ? `: ${detail}` : ""}. ` +
        `Send JPEG, PNG, WebP or GIF bytes, a base64 data: URL, or an https: URL.`,
    );
    this.mimeType = mimeType;
  }
}

/** Bytes → an image part with its type and size, or a typed error. */
export function imageFromBytes(data: Uint8Array, declaredType?: string): ImageContent {
  const sniffed = sniffImageType(data);
  const mimeType = sniffed ?? declaredType?.toLowerCase();
  if (!mimeType || !SUPPORTED_IMAGE_TYPES.includes(mimeType)) throw new UnsupportedImageError(mimeType, sniffed ? "" : "the bytes are not a known image format");
  const part: ImageContent = { type: "image", data, mimeType };
  const size = imageSize(data);
  if (size) {
    part.width = size.width;
    part.height = size.height;
  }
  return part;
}

/** A URL → an image part: data: URLs become bytes (stored once, never as repeated base64), https: stays a URL. */
export function imageFromURL(url: string): ImageContent {
  if (url.startsWith("data:")) {
    const parsed = parseDataURL(url);
    if (!parsed) throw new UnsupportedImageError(undefined, "the data: URL is not base64");
    return imageFromBytes(parsed.data, parsed.mimeType);
  }
  if (/^https?:\/\//i.test(url)) return { type: "image", url };
  throw new UnsupportedImageError(undefined, "the URL is neither https: nor data:");
}

function isSyncInput(image: ImageInput): image is ArrayBuffer | Uint8Array | string {
  return typeof image === "string" || image instanceof Uint8Array || image instanceof ArrayBuffer;
}

/** Normalise content without waiting, or return undefined when a Blob must be read first. */
export function normalizeContentSync(content: ContentInput): string | MessagePart[] | undefined {
  if (typeof content === "string") return content;
  const out: MessagePart[] = [];
  for (const part of content) {
    if (part.type === "text") out.push({ type: "text", text: part.text });
    else if (part.type === "image_url") out.push(imageFromURL(part.image_url.url));
    else if ("image" in part) {
      if (!isSyncInput(part.image)) return undefined;
      out.push(fromInput(part.image, part.mimeType));
    } else out.push(part);
  }
  return out;
}

/** Normalise content, reading Blobs. */
export async function normalizeContent(content: ContentInput): Promise<string | MessagePart[]> {
  const sync = normalizeContentSync(content);
  if (sync !== undefined) return sync;
  const parts = content as Exclude<ContentInput, string>;
  const resolved = await Promise.all(
    parts.map(async (part) =>
      "image" in part && !isSyncInput(part.image)
        ? ({ type: "image", image: new Uint8Array(await part.image.arrayBuffer()), mimeType: part.mimeType ?? part.image.type } as ImageInputPart)
        : part,
    ),
  );
  return normalizeContentSync(resolved)!;
}

function fromInput(image: ArrayBuffer | Uint8Array | string, mimeType: string | undefined): ImageContent {
  if (typeof image === "string") return imageFromURL(image);
  return imageFromBytes(image instanceof Uint8Array ? image : new Uint8Array(image), mimeType);
}
