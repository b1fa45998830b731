// The JSON form of a conversation, and writing it. Reading it (validation) is in json.ts, loaded when a document is
// read: keeping the two apart lets code that only writes (stores' export) stay small.
import { bytesToBase64 } from "./base64.js";
import type { Calibration } from "./calibration.js";
import type { AssistantMessage, Message, UserMessage } from "./types.js";

/** The versioned JSON form of a conversation (images as base64). */
export interface ConversationJSON {
  format: "edgechat.conversation";
  /** 2: messages form a tree (`parentId`); 1 (still imported): a list. */
  version: 2;
  id: string;
  model: string;
  system?: string;
  /** Set by stores' export. */
  title?: string;
  createdAt: number;
  calibration: Calibration;
  /** What the conversation has cost, replaced replies included; absent: the sum of its messages' usage. */
  usage?: SpentUsage;
  /** Every message of every branch, each after its parent. */
  messages: MessageJSON[];
  /** The last message of the active path; absent: the newest message. */
  activeLeaf?: string;
}

/** Tokens and cost spent by a conversation. */
export interface SpentUsage {
  promptTokens: number;
  completionTokens: number;
  cost: number;
}

export type PartJSON =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string; width?: number; height?: number }
  | { type: "image"; url: string; width?: number; height?: number };

export type MessageJSON =
  | (Omit<UserMessage, "content"> & { content: string | PartJSON[] })
  | AssistantMessage;

export function serializeMessage(message: Message): MessageJSON {
  if (message.role === "assistant" || typeof message.content === "string") return message as MessageJSON;
  return {
    ...message,
    content: message.content.map((part): PartJSON => {
      if (part.type === "text" || !("data" in part)) return part;
      const { data, ...rest } = part;
      return { ...rest, data: bytesToBase64(data) };
    }),
  };
}
