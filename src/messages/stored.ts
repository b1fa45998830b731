// A message as every store keeps it: each image's bytes replaced by their hex SHA-256, under which the store keeps
// the bytes once (IndexedDB as a Blob, the server stores in chunks), and put back when the message is read.
import { newId } from "./id.js";
import type { AssistantMessage, Message, MessagePart, TextContent, UserMessage } from "./types.js";

/** An image part on disk: its bytes live once, under `hash`. */
export interface StoredImagePart {
  type: "image";
  hash: string;
  mimeType: string;
  width?: number;
  height?: number;
}

export type StoredPart = TextContent | { type: "image"; url: string; width?: number; height?: number } | StoredImagePart;

export type StoredMessage = AssistantMessage | (Omit<UserMessage, "content"> & { content: string | StoredPart[] });

/** Hex SHA-256. Without `crypto.subtle` (a page on plain http, not localhost) a random key: stored, not deduplicated. */
export async function sha256(data: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return newId();
  const digest = new Uint8Array(await subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The message with each image's bytes replaced by their hash; `keep` gets every hash with its bytes and part. */
export async function storeImages(message: Message, keep: (hash: string, data: Uint8Array, mimeType: string) => void): Promise<StoredMessage> {
  if (message.role === "assistant" || typeof message.content === "string") return message as StoredMessage;
  const content = await Promise.all(
    message.content.map(async (part): Promise<StoredPart> => {
      if (part.type === "text" || !("data" in part)) return part;
      const { data, ...rest } = part;
      const hash = await sha256(data);
      keep(hash, data, part.mimeType);
      return { ...rest, hash };
    }),
  );
  return { ...message, content };
}

/** The hashes a stored message references, one per image part (a corrupt record read from disk yields none). */
export function hashesOf(message: StoredMessage | Message | undefined): string[] {
  const content = message?.content;
  return Array.isArray(content) ? content.flatMap((p) => (p?.type === "image" && typeof (p as { hash?: unknown }).hash === "string" ? [(p as StoredImagePart).hash] : [])) : [];
}

/** Puts the bytes back (a fresh copy per part, so changing one returned message changes nothing else). */
export function restoreImages(stored: StoredMessage, bytesOf: (hash: string) => Uint8Array): Message {
  if (stored.role === "assistant" || typeof stored.content === "string") return stored as Message;
  const content = stored.content.map((part): MessagePart => {
    if (!("hash" in part)) return part;
    const { hash, ...rest } = part;
    return { ...rest, data: bytesOf(hash).slice() };
  });
  return { ...stored, content };
}
