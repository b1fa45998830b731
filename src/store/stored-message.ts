// A message as the server stores keep it: JSON text, with each image's bytes replaced by the hex SHA-256 under
// which the bytes are stored once (shared by the Durable Object and Deno KV stores).
import type { Message, MessagePart } from "../messages/types.js";

/** An image part on disk: its bytes live once, under `hash`. */
export interface StoredImagePart {
  type: "image";
  hash: string;
  mimeType: string;
  width?: number;
  height?: number;
}

export interface EncodedMessage {
  /** The message to keep (a copy: later changes by the caller do not reach it). */
  message: Message;
  /** JSON, images replaced by `StoredImagePart`s. */
  json: string;
  /** One hash per image part (repeated when a message holds the same image twice): the references it adds. */
  hashes: string[];
  /** The bytes behind each hash. */
  images: Map<string, Uint8Array>;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Copies the message first (synchronously, before any await), then hashes its images. */
export async function encodeMessage(input: Message): Promise<EncodedMessage> {
  const message = structuredClone(input);
  const images = new Map<string, Uint8Array>();
  const hashes: string[] = [];
  if (message.role === "assistant" || typeof message.content === "string") return { message, json: JSON.stringify(message), hashes, images };
  const content = await Promise.all(
    message.content.map(async (part): Promise<MessagePart | StoredImagePart> => {
      if (part.type === "text" || !("data" in part)) return part;
      const { data, ...rest } = part;
      const bytes = new Uint8Array(data);
      const hash = await sha256(bytes);
      images.set(hash, bytes);
      hashes.push(hash);
      return { ...rest, hash };
    }),
  );
  return { message, json: JSON.stringify({ ...message, content }), hashes, images };
}

/** The hashes a stored message references, one per image part. */
export function hashesOf(stored: Message): string[] {
  if (typeof stored.content === "string") return [];
  return stored.content.flatMap((part) => ("hash" in part && typeof part.hash === "string" ? [part.hash] : []));
}

/** Parses stored JSON. Image parts still hold `hash` instead of `data`: see `restoreImages`. */
export const parseStored = (json: string): Message => JSON.parse(json) as Message;

/** Puts the bytes back (a fresh copy per part, so changing one returned message changes nothing else). */
export function restoreImages(stored: Message, bytesOf: (hash: string) => Uint8Array): Message {
  if (stored.role === "assistant" || typeof stored.content === "string") return stored;
  const content = stored.content.map((part): MessagePart => {
    if (!("hash" in part)) return part;
    const { hash, ...rest } = part as StoredImagePart;
    return { ...rest, data: bytesOf(hash).slice() };
  });
  return { ...stored, content };
}

/** Net change in references per hash, from a message's old hashes to its new ones. */
export function refDeltas(added: readonly string[], removed: readonly string[]): Map<string, number> {
  const deltas = new Map<string, number>();
  for (const h of added) deltas.set(h, (deltas.get(h) ?? 0) + 1);
  for (const h of removed) deltas.set(h, (deltas.get(h) ?? 0) - 1);
  for (const [h, d] of deltas) if (d === 0) deltas.delete(h);
  return deltas;
}
