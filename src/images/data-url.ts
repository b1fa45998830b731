import type { ImageContent } from "../messages/types.js";
import { bytesToBase64 } from "../messages/base64.js";

const cache = new WeakMap<Uint8Array, string>();

/** The URL to send for an image part; bytes are base64-encoded once per byte array, then reused. */
export function imageURL(part: ImageContent): string {
  if ("url" in part) return part.url;
  let url = cache.get(part.data);
  if (url === undefined) {
    url = `data:${part.mimeType};base64,${bytesToBase64(part.data)}`;
    cache.set(part.data, url);
  }
  return url;
}
