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
  /** The tools it called (`finishReason` "tool_calls"), with their results: one step of a turn that uses tools. */
  toolCalls?: ToolCallPart[];
}

/**
 * A call the model made to one of the conversation's tools (`edgechat/tools`), and what came of it: kept in the reply
 * that made it, so a call is never stored, fitted or sent without its result.
 *
 * `input`: its arguments still streaming (an interrupted reply may keep one: it is never sent); `pending`: written,
 * not yet looked at; `approval`: waiting for the user (`Conversation.approve`; a tool with `needsApproval`);
 * `approved`: allowed, not yet run; `running`;
 * then `done` (`result` is what the tool returned), `error` (`result` is the message sent to the model: bad
 * arguments, an unknown tool, a throw, an abort, the step limit) or `refused` (the user said no).
 */
export interface ToolCallPart {
  /** The server's call id (or one made up for a call written as text). */
  id: string;
  name: string;
  /** As the model wrote them: JSON text, partial while `input`. */
  arguments: string;
  state: "input" | "pending" | "approval" | "approved" | "running" | "done" | "error" | "refused";
  /** What the tool returned (JSON-safe), or the error text; sent to the model as the tool message (a non-string as JSON). */
  result?: unknown;
}

export type Message = UserMessage | AssistantMessage;
