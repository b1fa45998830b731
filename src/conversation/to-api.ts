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
    // An assistant turn that produced nothing (failed before its first token) carries nothing to send.
    else if (m.content !== "") out.push({ role: "assistant", content: m.content });
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
