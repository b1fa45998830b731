// Between a store's records and the versioned JSON document every store exports and imports.
import { UNCALIBRATED } from "../messages/calibration.js";
import type { ParsedConversation } from "../messages/json.js";
import { type ConversationJSON, serializeMessage } from "../messages/serialize.js";
import type { Message } from "../messages/types.js";
import { newMeta } from "./accounting.js";
import type { ConversationMeta } from "./types.js";

/** A stored conversation as the export document (images as base64). */
export function exportDocument(meta: ConversationMeta, messages: readonly Message[]): ConversationJSON & { title: string } {
  const doc: ConversationJSON & { title: string } = {
    format: "edgechat.conversation",
    version: 2,
    id: meta.id,
    model: meta.model,
    title: meta.title,
    createdAt: meta.createdAt,
    calibration: { ...(meta.calibration ?? UNCALIBRATED) },
    usage: { ...meta.usage },
    messages: messages.map(serializeMessage),
  };
  if (meta.system !== undefined) doc.system = meta.system;
  if (meta.activeLeaf !== undefined) doc.activeLeaf = meta.activeLeaf;
  return doc;
}

/**
 * The meta of an imported document, before its messages are counted in (`adjustUsage`, `messageCount`); call
 * `spentOnImport` after them.
 */
export function importedMeta(parsed: ParsedConversation, now: number): ConversationMeta {
  const meta = newMeta({ id: parsed.id, model: parsed.model, title: parsed.title ?? "", ...(parsed.system !== undefined && { system: parsed.system }) }, now);
  meta.createdAt = parsed.createdAt;
  meta.calibration = parsed.calibration;
  return meta;
}

/** A document that says what it cost (replaced replies included) keeps that figure over its messages' sum. */
export function spentOnImport(meta: ConversationMeta, parsed: ParsedConversation): void {
  if (parsed.usage) meta.usage = { ...parsed.usage };
}
