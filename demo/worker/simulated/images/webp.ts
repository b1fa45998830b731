import { ascii, type ImageFacts, u16le, u24le } from "./types.js";

export function isWebp(b: Uint8Array): boolean {
  return ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP";
}

/** Size from the first chunk's header (VP8 lossy, VP8L lossless, VP8X extended). Pixels are not decoded. */
export function inspectWebp(bytes: Uint8Array): ImageFacts {
  const facts: ImageFacts = { format: "WebP", unknown: ["dominant colour: WebP pixels are not decoded by the simulator"] };
  const chunk = ascii(bytes, 12, 4);
  const at = 20;
  if (chunk === "VP8 " && bytes[at + 3] === 0x9d && bytes[at + 4] === 0x01 && bytes[at + 5] === 0x2a) {
    facts.width = u16le(bytes, at + 6) & 0x3fff;
    facts.height = u16le(bytes, at + 8) & 0x3fff;
    facts.detail = "lossy (VP8)";
  } else if (chunk === "VP8L" && bytes[at] === 0x2f && bytes.length >= at + 5) {
    const bits = (bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 24)) >>> 0;
    facts.width = (bits & 0x3fff) + 1;
    facts.height = ((bits >>> 14) & 0x3fff) + 1;
    facts.detail = "lossless (VP8L)";
  } else if (chunk === "VP8X" && bytes.length >= at + 10) {
    facts.width = u24le(bytes, at + 4) + 1;
    facts.height = u24le(bytes, at + 7) + 1;
    const flags = bytes[at]!;
    facts.detail = `extended (VP8X)${flags & 0x02 ? ", animated" : ""}${flags & 0x10 ? ", with alpha" : ""}`;
  } else {
    facts.unknown.unshift("size: the WebP header is not one the simulator reads");
  }
  return facts;
}
