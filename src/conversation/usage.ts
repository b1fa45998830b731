import type { AssistantMessage, Message } from "../messages/types.js";

type Usage = NonNullable<AssistantMessage["usage"]>;

/** Tokens and cost of every reply in `messages`. */
export function totalUsage(messages: readonly Message[]): { promptTokens: number; completionTokens: number; cost: number } {
  let promptTokens = 0;
  let completionTokens = 0;
  let cost = 0;
  for (const m of messages) {
    if (m.role !== "assistant" || !m.usage) continue;
    promptTokens += m.usage.prompt_tokens;
    completionTokens += m.usage.completion_tokens;
    cost += m.usage.estimated_cost ?? 0;
  }
  return { promptTokens, completionTokens, cost };
}

/** A continued reply's usage: both requests' tokens and cost added up (either may be missing). */
export function sumUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a || !b) return b ?? a;
  const sum = { ...b, prompt_tokens: a.prompt_tokens + b.prompt_tokens, completion_tokens: a.completion_tokens + b.completion_tokens, total_tokens: a.total_tokens + b.total_tokens };
  if (a.estimated_cost !== undefined || b.estimated_cost !== undefined) sum.estimated_cost = (a.estimated_cost ?? 0) + (b.estimated_cost ?? 0);
  return sum;
}
