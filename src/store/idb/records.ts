// Messages to records and back, and the checks a record read from disk must pass before it is trusted.
import { newId } from "../../messages/id.js";
import type { Message } from "../../messages/types.js";
import type { ConversationMeta } from "../types.js";
import type { ConversationRecord, StoredMessage, StoredPart } from "./schema.js";

/** Hex SHA-256. Without `crypto.subtle` (a page on plain http, not localhost) a random key: stored, not deduplicated. */
async function sha256(data: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return newId();
  const digest = new Uint8Array(await subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Image bytes become Blobs keyed by hash (hashed here, before the transaction: hashing is not an IDB request). */
export async function toStored(message: Message, blobs: Map<string, Blob>): Promise<StoredMessage> {
  if (typeof message.content === "string") return message as StoredMessage;
  const content = await Promise.all(
    message.content.map(async (part): Promise<StoredPart> => {
      if (!("data" in part)) return part;
      const { data, ...rest } = part;
      const hash = await sha256(data);
      blobs.set(hash, new Blob([data as Uint8Array<ArrayBuffer>], { type: part.mimeType }));
      return { ...rest, hash };
    }),
  );
  return { ...message, content } as StoredMessage;
}

/** A stored message with its images' bytes back, as fresh copies. */
export async function fromStored(message: StoredMessage, blobs: Map<string, Blob | undefined>): Promise<Message> {
  if (typeof message.content === "string") return message as Message;
  const content = await Promise.all(
    message.content.map(async (part) => {
      if (!("hash" in part)) return part;
      const { hash, ...rest } = part;
      return { ...rest, data: new Uint8Array(await blobs.get(hash)!.arrayBuffer()) };
    }),
  );
  return { ...message, content } as Message;
}

export function toMeta({ nextSeq: _, ...meta }: ConversationRecord): ConversationMeta {
  return meta;
}

// Shape checks for what comes off the disk: cheap, no schema library (valibot would cost the size budget).
type Loose = Record<string, any> | undefined | null;
const is = (type: string, ...values: unknown[]) => values.every((v) => typeof v === type);
const STATUSES = ["streaming", "complete", "interrupted", "error"];

const isPart = (p: Loose) =>
  p?.type === "text" ? is("string", p.text) : p?.type === "image" && (is("string", p.url) || is("string", p.hash, p.mimeType));

export const isMessageRecord = (r: Loose): boolean => {
  const m: Loose = r?.message;
  return (
    is("string", r?.conversationId, m?.id) &&
    is("number", r?.seq, m?.createdAt) &&
    (m?.role === "assistant"
      ? is("string", m.content) && STATUSES.includes(m.status)
      : m?.role === "user" && (is("string", m.content) || (Array.isArray(m.content) && m.content.every(isPart))))
  );
};

export const isConversationRecord = (r: Loose): boolean =>
  is("string", r?.id, r?.title, r?.model) && is("number", r?.createdAt, r?.updatedAt, r?.messageCount, r?.nextSeq, r?.usage?.promptTokens, r?.usage?.completionTokens, r?.usage?.cost);
