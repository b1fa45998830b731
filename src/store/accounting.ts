// Bookkeeping every store shares, so that list() never has to read messages.
import type { Message } from "../conversation/types.js";
import type { ConversationMeta } from "./types.js";

const TITLE_LENGTH = 60;

/** Add `after`'s usage and remove `before`'s (either may be absent). */
export function adjustUsage(meta: ConversationMeta, before: Message | undefined, after: Message | undefined): void {
  for (const [message, sign] of [
    [before, -1],
    [after, 1],
  ] as const) {
    if (message?.role !== "assistant" || !message.usage) continue;
    meta.usage.promptTokens += sign * message.usage.prompt_tokens;
    meta.usage.completionTokens += sign * message.usage.completion_tokens;
    meta.usage.cost += sign * (message.usage.estimated_cost ?? 0);
  }
  // Sums of floats drift: keep tiny negative residue from showing as "-$0.00".
  if (Math.abs(meta.usage.cost) < 1e-12) meta.usage.cost = 0;
}

/** A title from the first user message, when the conversation has none yet. */
export function titleFrom(message: Message): string | undefined {
  if (message.role !== "user") return undefined;
  const text = typeof message.content === "string" ? message.content : message.content.map((p) => (p.type === "text" ? p.text : "")).join(" ");
  const line = text.replace(/\s+/g, " ").trim();
  if (!line) return "Image";
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line;
}

export function newMeta(init: { id: string; title?: string; model: string; system?: string }, now: number): ConversationMeta {
  const meta: ConversationMeta = {
    id: init.id,
    title: init.title ?? "",
    model: init.model,
    createdAt: now,
    updatedAt: now,
    messageCount: 0,
    usage: { promptTokens: 0, completionTokens: 0, cost: 0 },
  };
  if (init.system !== undefined) meta.system = init.system;
  return meta;
}

export const DEFAULT_PAGE = 50;
