// A message as the server stores keep it: JSON text of the stored message (messages/stored.ts: images by hash),
// shared by the Durable Object and Deno KV stores.
import { type StoredMessage, storeImages } from "../messages/stored.js";
import type { Message } from "../messages/types.js";

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

/** Copies the message first (synchronously, before any await), then hashes its images. */
export async function encodeMessage(input: Message): Promise<EncodedMessage> {
  const message = structuredClone(input);
  const images = new Map<string, Uint8Array>();
  const hashes: string[] = [];
  const stored = await storeImages(message, (hash, data) => {
    images.set(hash, data);
    hashes.push(hash);
  });
  return { message, json: JSON.stringify(stored), hashes, images };
}

/** Parses stored JSON. Image parts still hold `hash` instead of `data`: see `restoreImages`. */
export const parseStored = (json: string): StoredMessage => JSON.parse(json) as StoredMessage;

/** Net change in references per hash, from a message's old hashes to its new ones. */
export function refDeltas(added: readonly string[], removed: readonly string[]): Map<string, number> {
  const deltas = new Map<string, number>();
  for (const h of added) deltas.set(h, (deltas.get(h) ?? 0) + 1);
  for (const h of removed) deltas.set(h, (deltas.get(h) ?? 0) - 1);
  for (const [h, d] of deltas) if (d === 0) deltas.delete(h);
  return deltas;
}
