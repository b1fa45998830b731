import type { ResumePoint, Usage } from "../client/types.js";

export interface TextContent {
  type: "text";
  text: string;
}

/**
 * An image held by a conversation: its bytes (sent as a `data:` URL, built only when a request is) or an
 * `https:` URL (sent as is). `width`/`height` size the image's token cost; unknown means the maximum.
 */
export type ImageContent =
  | { type: "image"; data: Uint8Array; mimeType: string; width?: number; height?: number }
  | { type: "image"; url: string; width?: number; height?: number };

export type MessagePart = TextContent | ImageContent;

export type MessageContent = string | readonly MessagePart[];

/** How an assistant reply ended. `interrupted`: aborted, dropped, or cut off at max_tokens — partial text kept. */
export type ReplyStatus = "streaming" | "complete" | "interrupted" | "error";

interface MessageBase {
  /** Stable, unique within the conversation. */
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Kept in every request however old, with the rest of its turn. */
  pinned?: boolean;
  /**
   * The message this one follows: a conversation is a tree, whose edits and regenerations are siblings (versions)
   * of what they replace. Absent on a first message and its versions. Given to a store's `appendMessage`: absent
   * means "after the active leaf", `null` "a new first message"; stored and read back, it is a string or absent.
   */
  parentId?: string | null;
}

export interface UserMessage extends MessageBase {
  role: "user";
  content: MessageContent;
}

export interface AssistantMessage extends MessageBase {
  role: "assistant";
  content: string;
  status: ReplyStatus;
  usage?: Usage;
  finishReason?: string;
  /** The error that ended the reply (`status` "error" or "interrupted"). */
  error?: { name: string; message: string };
  /** The server rejected the first request as too long; the history was trimmed further and sent again. */
  contextRetry?: boolean;
  /**
   * While the reply streams from a server that relays resumable generations: where to pick it up again (a reload
   * re-attaches to it, `Conversation.open`). `content` holds exactly the text of the events up to `lastEventId`.
   * A finished reply has none.
   */
  resume?: ResumePoint;
}

export type Message = UserMessage | AssistantMessage;
