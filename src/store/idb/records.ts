// Messages to records and back, and the checks a record read from disk must pass before it is trusted.
import { hashesOf, restoreImages, type StoredMessage, storeImages } from "../../messages/stored.js";
import type { Message } from "../../messages/types.js";
import type { ConversationMeta } from "../types.js";
import type { ConversationRecord } from "./schema.js";

/** Image bytes become Blobs keyed by hash (hashed here, before the transaction: hashing is not an IDB request). */
export const toStored = (message: Message, blobs: Map<string, Blob>): Promise<StoredMessage> =>
  storeImages(message, (hash, data, type) => blobs.set(hash, new Blob([data as Uint8Array<ArrayBuffer>], { type })));

/** A stored message with its images' bytes back, as fresh copies. */
export async function fromStored(message: StoredMessage, blobs: Map<string, Blob | undefined>): Promise<Message> {
  const bytes = new Map<string, Uint8Array>();
  for (const hash of hashesOf(message)) bytes.set(hash, new Uint8Array(await blobs.get(hash)!.arrayBuffer()));
  return restoreImages(message, (hash) => bytes.get(hash)!);
}

export function toMeta({ nextSeq: _, ...meta }: ConversationRecord): ConversationMeta {
  return meta;
}

// Shape checks for what comes off the disk: cheap, no schema library (valibot would cost the size budget).
type Loose = Record<string, any> | undefined | null;
const is = (type: string, ...values: unknown[]) => values.every((v) => typeof v === type);
const all = (list: unknown, ok: (item: Loose) => boolean) => Array.isArray(list) && list.every(ok);

const STATUSES = ["streaming", "complete", "interrupted", "error"];

// A reply's tool calls (issue 18) are sent back to the model with the history: one without an id or a name cannot be.
// (A state this version does not know is read as one without a result: sent as not run.)
const isCall = (c: Loose) => is("string", c?.id, c?.name, c?.arguments, c?.state);

const isPart = (p: Loose) =>
  p?.type === "text" ? is("string", p.text) : p?.type === "image" && (is("string", p.url) || is("string", p.hash, p.mimeType));

export const isMessageRecord = (r: Loose): boolean => {
  const m: Loose = r?.message;
  return (
    // `parentId` since v3; `?? ""`: absent passes, anything but a string fails.
    is("string", r?.conversationId, m?.id, m?.parentId ?? "") &&
    is("number", r?.seq, m?.createdAt) &&
    (m?.role === "assistant"
      ? is("string", m.content) && STATUSES.includes(m.status) && all(m.toolCalls ?? [], isCall)
      : m?.role === "user" && (is("string", m.content) || all(m.content, isPart)))
  );
};

// Since v3 a conversation may have an active leaf (an id) and forks (a parent's id → its versions' ids).
export const isConversationRecord = (r: Loose): boolean =>
  is("string", r?.id, r?.title, r?.model, r?.activeLeaf ?? "") &&
  is("number", r?.createdAt, r?.updatedAt, r?.messageCount, r?.nextSeq, r?.usage?.promptTokens, r?.usage?.completionTokens, r?.usage?.cost) &&
  Object.values(r?.forks ?? {}).every((ids) => Array.isArray(ids) && is("string", ...ids));
