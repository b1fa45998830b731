// What a Conversation takes and reports: its options, the changes it announces, and its context report.
import type { RequestOptions } from "../client/options.js";
import type { ChatCompletionCreateParamsBase, ToolCallDelta } from "../client/types.js";
import type { StorageError } from "../store/errors.js";
import type { ImagePolicy } from "../models/presets.js";
import type { AssistantMessage, Message } from "../messages/types.js";
import type { Client } from "../client/client.js";
import type { Reply } from "./reply.js";

/**
 * What `send` (and `regenerate`, `edit`, `continue`) does while a reply of the same Conversation is not finished:
 * `queue` it to run next; `reject` with an error; or `replace`: stop the running reply (its partial text kept,
 * `interrupted`) and drop the queued ones, then run.
 */
export type WhileBusy = "queue" | "reject" | "replace";

/** Request parameters a conversation passes through (everything but model, messages and stream). */
export type ConversationParams = Partial<Omit<ChatCompletionCreateParamsBase, "model" | "messages">>;

export interface ConversationOptions {
  client: Client;
  model: string;
  /** Stable id; default a random UUID. */
  id?: string;
  system?: string;
  /** Tokens the model accepts; default from the model's preset (unknown models must give it). */
  contextWindow?: number;
  /** Tokens reserved for (and sent as `max_tokens` for) each reply; default min(4096, window / 4). */
  maxOutputTokens?: number;
  /** Default `estimateTokens`; `edgechat/tokenizer/llama3` gives an exact count. */
  countTokens?: (text: string) => number;
  /** Default from the preset ("latest" for Llama 3.2 Vision, which takes one image per request), else "all". */
  imagePolicy?: ImagePolicy;
  /** Sent with every request (temperature, top_p, …). */
  params?: ConversationParams;
  /** Per-request options for the client: timeouts, retries, headers, onRetry. */
  requestOptions?: Omit<RequestOptions, "signal">;
  /** Turn dropped turns into a short text kept after the system message. Called only when the dropped set changes. */
  summarize?: (dropped: readonly Message[]) => string | Promise<string>;
  /** Tokens kept free for the counter's error; default 2% of the window. */
  safetyMargin?: number;
  /** Default "queue". */
  whileBusy?: WhileBusy;
  /**
   * An `onChange` listener threw. The conversation carries on as if it had not (its state, the stored reply);
   * without this option the error is reported like an uncaught one (`reportError`, else thrown in a new task).
   */
  onListenerError?: (error: unknown) => void;
  /** Tools the model may call, and the loop that runs them: `toolset()` from `edgechat/tools`. */
  tools?: ToolRunner;
}

export interface SendOptions {
  signal?: AbortSignal;
  params?: ConversationParams;
  /** System text for this request only, after the conversation's system message; never stored. */
  instructions?: string;
  /**
   * Sent instead, once, when the server refuses the request (a `BadRequestError` or `UnprocessableEntityError`)
   * before any text: for a parameter not every server takes (`sendObject` from `edgechat/structured` uses it).
   */
  fallback?: { params?: ConversationParams; instructions?: string };
}

/**
 * What a Conversation asks of its tools. `toolset()` (from `edgechat/tools`) makes one and holds the loop's logic,
 * so a Conversation that uses no tools carries none of it.
 */
export interface ToolRunner {
  /** Request parameters for step `step` (1, 2, …) of a turn: `tools`, and `tool_choice` when it must change. */
  params(step: number): ConversationParams;
  /**
   * The streaming reply (`content` ending with `text`, this step's text) with a chunk's tool-call `deltas` folded in;
   * `end` once the step's stream has ended (its `status` says whether it ended whole). It may hold text back from
   * `content` (a call written as text).
   */
  fold(message: AssistantMessage, deltas: readonly ToolCallDelta[] | undefined, text: string, end: boolean): AssistantMessage;
  /**
   * After a step ended with `message`, the last of the path: run the calls that are due, each change through `update`
   * (stored as it happens), and while the model is to be asked again, stream the next step (`next(2)`, …). Resolves
   * with the turn's last message, or with what `next` failed with. On `signal`'s abort: the reply `interrupted`
   * through `update`, then a rejection with the abort's error.
   */
  loop<F>(message: AssistantMessage, update: (message: AssistantMessage) => void, signal: AbortSignal, next: (step: number) => Promise<AssistantMessage | F>): Promise<AssistantMessage | F>;
  /** `message` with the user's answer to the call `callId`, which waits for one (`approval`); throws otherwise. */
  decide(message: AssistantMessage, callId: string, approved: boolean): AssistantMessage;
  /**
   * An interrupted step (`message`, the last of the path) whose calls were written whole, as `continue()` goes on
   * from it: ended, for `loop` to take up. Undefined for any other message (`continue()` then carries its text on).
   */
  continueFrom(message: AssistantMessage): AssistantMessage | undefined;
  /**
   * A step (`message`, the last of the path) whose turn stopped mid-run with nobody at work on it (the page or
   * process running it went away): interrupted, its running calls stopped, for `continue()` to go on from. Undefined
   * for any other message.
   */
  orphaned(message: AssistantMessage): AssistantMessage | undefined;
}

export type ConversationChange =
  | { type: "append"; message: Message }
  | { type: "update"; message: Message }
  | { type: "remove"; ids: readonly string[] }
  /** Older messages loaded from the store (`loadOlder`), placed before the others. */
  | { type: "prepend"; messages: readonly Message[] }
  /** A reply moved on: queued, waiting for another tab's turn, streaming, finished (`reply.state`). */
  | { type: "reply"; reply: Reply }
  /** A write to the store failed; the conversation in memory is intact and `flush()` retries. */
  | { type: "storage-error"; error: StorageError };

/** What the last request carried, for a context meter. */
export interface ContextReport {
  tokens: number;
  budget: number;
  contextWindow: number;
  droppedTurns: number;
  droppedMessages: number;
  summarized: boolean;
}
