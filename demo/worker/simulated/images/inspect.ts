import { inspectGif, isGif } from "./gif.js";
import { inspectJpeg, isJpeg } from "./jpeg.js";
import { inspectPng, isPng } from "./png.js";
import { ascii, type ImageFacts } from "./types.js";
import { inspectWebp, isWebp } from "./webp.js";

export interface InspectedImage extends ImageFacts {
  /** `data:` URLs are decoded; other URLs are not downloaded by the simulator. */
  source: "data URL" | "remote URL";
  /** The media type the data URL declared, e.g. `image/png`. */
  declaredType?: string;
  byteLength?: number;
  /** A remote URL's host, for the reply. */
  host?: string;
}

/** Everything the simulator can compute about one `image_url` from its bytes, and what it cannot. */
export async function inspectImageURL(url: string, colour = true): Promise<InspectedImage> {
  const data = /^data:([^,;]*)((?:;[^,;]*)*),(.*)$/is.exec(url);
  if (!data) {
    let host: string | undefined;
    try {
      host = new URL(url).host;
    } catch {}
    return { source: "remote URL", ...(host ? { host } : {}), unknown: ["size and colour: the simulator does not download images, only reads data: URLs"] };
  }
  const declaredType = data[1]!.toLowerCase() || "text/plain";
  const bytes = decodeDataURL(data[3]!, /;base64/i.test(data[2]!));
  if (!bytes) return { source: "data URL", declaredType, unknown: ["size and colour: the data URL's base64 is invalid"] };
  return { source: "data URL", declaredType, byteLength: bytes.length, ...(await inspectBytes(bytes, colour)) };
}

/** With `colour` false only the header is read (the size): cheap, for images already described. */
export async function inspectBytes(bytes: Uint8Array, colour = true): Promise<ImageFacts> {
  const facts = isPng(bytes)
    ? await inspectPng(bytes, colour)
    : isJpeg(bytes)
      ? inspectJpeg(bytes, colour)
      : isGif(bytes)
        ? inspectGif(bytes, colour)
        : isWebp(bytes)
          ? inspectWebp(bytes)
          : undefined;
  if (facts) {
    if (colour && !facts.colour && !facts.unknown.some((u) => u.includes("colour"))) facts.unknown.push("dominant colour: the image has no pixels");
    return facts;
  }
  const other = otherFormat(bytes);
  return other
    ? { format: other, unknown: [`size and colour: ${other} files are not read by the simulator`] }
    : { unknown: ["format, size and colour: the bytes are not an image format the simulator recognises"] };
}

function otherFormat(b: Uint8Array): string | undefined {
  if (ascii(b, 0, 2) === "BM") return "BMP";
  if (ascii(b, 4, 4) === "ftyp") {
    const brand = ascii(b, 8, 4);
    if (brand.startsWith("avi")) return "AVIF";
    if (/^(heic|heix|mif1|msf1)$/.test(brand)) return "HEIF";
  }
  if (ascii(b, 0, 4) === "II*\0" || ascii(b, 0, 4) === "MM\0*") return "TIFF";
  if (/^\s*(<\?xml[^>]*>\s*)?<svg/i.test(ascii(b, 0, 200))) return "SVG";
  return undefined;
}

function decodeDataURL(payload: string, base64: boolean): Uint8Array | undefined {
  try {
    const text = base64 ? atob((payload.includes("%") ? decodeURIComponent(payload) : payload).replace(/\s+/g, "")) : decodeURIComponent(payload);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 255) return undefined;
      bytes[i] = code;
    }
    return bytes;
  } catch {
    return undefined;
  }
}
