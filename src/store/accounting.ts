// Bookkeeping every store shares, so that list() never has to read messages.
import type { StoredMessage } from "../messages/stored.js";
import { forksOf, newestUnder, parentKey, ROOT, withVersion } from "../messages/tree.js";
import type { Message } from "../messages/types.js";
import type { ConversationMeta } from "./types.js";

const TITLE_LENGTH = 60;

/**
 * Count what `after` spent beyond `before` (the same message before and after an update; `before` absent for an
 * append). The totals are what was spent, so they never go down: a removed or replaced reply stays counted.
 */
export function adjustUsage(meta: ConversationMeta, before: Message | StoredMessage | undefined, after: Message | StoredMessage | undefined): void {
  const was = before?.role === "assistant" ? before.usage : undefined;
  const now = after?.role === "assistant" ? after.usage : undefined;
  if (!now) return;
  meta.usage.promptTokens += Math.max(0, now.prompt_tokens - (was?.prompt_tokens ?? 0));
  meta.usage.completionTokens += Math.max(0, now.completion_tokens - (was?.completion_tokens ?? 0));
  meta.usage.cost += Math.max(0, (now.estimated_cost ?? 0) - (was?.estimated_cost ?? 0));
}

/**
 * An appended message (placed: see `place`), counted into its conversation's meta: one more message, what it cost,
 * a title if none; it is the active leaf now, and a new version if its parent had a child (`existing`) already.
 */
export function countIn(meta: ConversationMeta, message: Message | StoredMessage, existing?: string): void {
  meta.messageCount++;
  adjustUsage(meta, undefined, message);
  if (!meta.title) meta.title = titleFrom(message) ?? "";
  const forks = withVersion(meta.forks, parentKey(message), existing, message.id);
  if (forks) meta.forks = forks;
  meta.activeLeaf = message.id;
}

/** An imported tree (oldest first), counted in at once: its forks, and its active leaf (`leaf`, else the newest). */
export function countTree(meta: ConversationMeta, messages: readonly Message[], leaf: string | undefined): void {
  for (const message of messages) countIn(meta, message);
  const forks = forksOf(messages);
  if (forks) meta.forks = forks;
  else delete meta.forks;
  const active = newestUnder(leaf ?? ROOT, messages)?.id;
  if (active === undefined) delete meta.activeLeaf;
  else meta.activeLeaf = active;
}

/** A title from the first user message, when the conversation has none yet. */
export function titleFrom(message: Message | StoredMessage): string | undefined {
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

/** A reply nobody is writing any more, as `interruptStale` stores it: its text kept, nothing left to resume. */
export function interrupted<M extends { status: string; resume?: unknown }>(message: M): M {
  const { resume: _, ...rest } = message;
  return { ...rest, status: "interrupted" } as M;
}
