// Base64 with btoa/atob, which browsers, Deno, Workers and Node ≥ 16 all have (no Node-only API).

const CHUNK = 0x8000;

/**
 * The characters of these char codes. `fromCharCode` takes any array-like through `Reflect.apply` (as fast as
 * `apply`; a spread is ~6× slower), which TypeScript types only as `any` for a typed array.
 */
const fromCharCodes = (codes: ArrayLike<number>): string => Reflect.apply(String.fromCharCode, null, codes);

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) binary += fromCharCodes(bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `data:image/png;base64,...` → bytes and type; undefined when it is not a base64 data URL. */
export function parseDataURL(url: string): { mimeType: string; data: Uint8Array } | undefined {
  const match = /^data:([^;,]*)(;[^,]*)?,/i.exec(url);
  if (!match || !/;base64/i.test(match[2] ?? "")) return undefined;
  try {
    return { mimeType: (match[1] || "application/octet-stream").toLowerCase(), data: base64ToBytes(url.slice(match[0].length).replace(/\s+/g, "")) };
  } catch {
    return undefined;
  }
}
