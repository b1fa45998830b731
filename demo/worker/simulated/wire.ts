import { estimatedCost } from "./pricing.js";

// DeepInfra's Chat Completions wire format (the shapes of test/helpers/upstream.ts).

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated_cost: number;
}

export interface Envelope {
  id: string;
  created: number;
  model: string;
}

export function envelope(model: string): Envelope {
  const random = crypto.getRandomValues(new Uint8Array(12));
  return { id: `chatcmpl-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`, created: Math.floor(Date.now() / 1000), model };
}

export function usage(model: string, prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, estimated_cost: estimatedCost(model, prompt, completion) };
}

export function chunk(e: Envelope, delta: Record<string, unknown>, finishReason: string | null = null, u?: Usage) {
  return {
    id: e.id,
    object: "chat.completion.chunk",
    created: e.created,
    model: e.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...(u ? { usage: u } : {}),
  };
}

export interface WireToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** A whole reply; one of tool calls has `content: null`. */
export function completion(e: Envelope, content: string | null, finishReason: string, u: Usage, toolCalls?: WireToolCall[]) {
  return {
    id: e.id,
    object: "chat.completion",
    created: e.created,
    model: e.model,
    choices: [{ index: 0, message: { role: "assistant", content, ...(toolCalls && { tool_calls: toolCalls }) }, finish_reason: finishReason, logprobs: null }],
    usage: u,
  };
}

export const sse = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
