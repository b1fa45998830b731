import type { ChatMessage, ContentPart } from "../client/types.js";
import { imageURL } from "../images/data-url.js";
import type { Message, MessageContent } from "../messages/types.js";

/** Conversation messages (the system message and a summary among them) → the API's. Image bytes become data: URLs only here. */
export function toAPIMessages(messages: readonly (Message | SummaryMessage)[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let systemText = "";
  for (const m of messages) {
    // A summary joins the system message: Llama's template expects at most one, first.
    if (m.role === "system") systemText = systemText ? `${systemText}\n\n${m.content}` : m.content;
  }
  if (systemText) out.push({ role: "system", content: systemText });
  for (const m of messages) {
    if (m.role === "system") continue;
    else if (m.role === "user") out.push({ role: "user", content: toAPIContent(m.content) });
    else {
      // Calls are sent with their results; one still being written when the reply stopped was never run: left out.
      const calls = m.toolCalls?.filter((c) => c.state !== "input");
      // An assistant turn that produced nothing (failed before its first token) carries nothing to send.
      if (m.content || calls?.length) {
        out.push({
          role: "assistant",
          content: m.content || null,
          ...(calls?.length && { tool_calls: calls.map(({ id, name, arguments: args }) => ({ id, type: "function" as const, function: { name, arguments: sendable(args) } })) }),
        });
      }
      // What the model is told of each: its result (a non-string as JSON), or that it has none (never run).
      for (const { id, result } of calls ?? []) out.push({ role: "tool", tool_call_id: id, content: typeof result === "string" ? result : (JSON.stringify(result) ?? "Not run: no result.") });
    }
  }
  return out;
}

/** The system message, or the summary of dropped turns (as fitToContext places it): sent as system text. */
export interface SummaryMessage {
  role: "system";
  content: string;
}

function toAPIContent(content: MessageContent): string | ContentPart[] {
  if (typeof content === "string") return content;
  // A lone text part is safest as a plain string: some servers reject parts for text-only models.
  if (content.length === 1 && content[0]!.type === "text") return content[0]!.text;
  return content.map((part): ContentPart => (part.type === "text" ? { type: "text", text: part.text } : { type: "image_url", image_url: { url: imageURL(part) } }));
}

/**
 * A call's arguments as they can go back: a JSON object as written, anything else (a model's typo) as "{}". Servers
 * that render calls with the model's template parse every call's arguments (llama.cpp, vLLM) and refuse a history
 * with one they cannot; the call's result quotes what was written.
 */
function sendable(args: string): string {
  try {
    const value: unknown = JSON.parse(args);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return args;
  } catch {}
  return "{}";
}
