// Every error the page (and the Deno chat) can meet, in plain words. Live errors are classified with
// `instanceof` (the SDK's classes work across bundles); a reply loaded from storage keeps only the error's name,
// so the same table is also reachable by name. Imported by path rather than as "edgechat": the Deno chat shares
// this module, and Deno resolves the bare name to the package's built dist/, not to the source the CLI runs.
import {
  APIError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  ContextBudgetError,
  ContextLengthError,
  ConversationNotFoundError,
  ImageLimitError,
  InternalServerError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  type RetryInfo,
  StorageError,
  StorageQuotaError,
  StreamInterruptedError,
  TimeoutError,
  UnprocessableEntityError,
  UnsupportedImageError,
  UserAbortError,
  ValidationError,
} from "../../src/index.ts";
import { formatInt } from "./format.ts";

/** What is known of the request that failed. */
export interface ErrorContext {
  /** Older turns it left out: 0 for a conversation's first question (there were none). */
  droppedTurns?: number | undefined;
}

export interface ErrorText {
  title: string;
  detail?: string;
  /** "info": nothing went wrong (you pressed Stop); "warning": recoverable; "error": it failed. */
  tone: "info" | "warning" | "error";
}

type Kind =
  | "stopped"
  | "dropped"
  | "timeout"
  | "context-length"
  | "context-budget"
  | "rate-limit"
  | "auth"
  | "payment"
  | "forbidden"
  | "bad-request"
  | "not-found"
  | "server"
  | "stream-error"
  | "connection"
  | "quota"
  | "storage"
  | "gone"
  | "image"
  | "image-limit"
  | "invalid-reply"
  | "other";

/** The class hierarchy, most specific first. */
const CLASSES: [abstract new (...args: never[]) => unknown, Kind][] = [
  [UserAbortError, "stopped"],
  [StreamInterruptedError, "dropped"],
  [TimeoutError, "timeout"],
  [ContextLengthError, "context-length"],
  [ContextBudgetError, "context-budget"],
  [RateLimitError, "rate-limit"],
  [AuthenticationError, "auth"],
  [PaymentRequiredError, "payment"],
  [PermissionDeniedError, "forbidden"],
  [UnprocessableEntityError, "bad-request"],
  [BadRequestError, "bad-request"],
  [NotFoundError, "not-found"],
  [InternalServerError, "server"],
  [APIError, "stream-error"],
  [ConnectionError, "connection"],
  [StorageQuotaError, "quota"],
  [ConversationNotFoundError, "gone"],
  [StorageError, "storage"],
  [UnsupportedImageError, "image"],
  [ImageLimitError, "image-limit"],
  [ValidationError, "invalid-reply"],
];

/** Names as stored with a reply (`message.error.name`). */
const NAMES: Record<string, Kind> = {
  UserAbortError: "stopped",
  StreamInterruptedError: "dropped",
  TimeoutError: "timeout",
  ContextLengthError: "context-length",
  ContextBudgetError: "context-budget",
  RateLimitError: "rate-limit",
  AuthenticationError: "auth",
  PaymentRequiredError: "payment",
  PermissionDeniedError: "forbidden",
  UnprocessableEntityError: "bad-request",
  BadRequestError: "bad-request",
  NotFoundError: "not-found",
  InternalServerError: "server",
  APIError: "stream-error",
  ConnectionError: "connection",
  StorageQuotaError: "quota",
  StorageError: "storage",
  UnsupportedImageError: "image",
  ImageLimitError: "image-limit",
  ValidationError: "invalid-reply",
};

function kindOf(error: unknown): Kind {
  for (const [Class, kind] of CLASSES) if (error instanceof Class) return kind;
  return "other";
}

/** Only the server's own words from an SDK message ("500 Internal Server Error: …" → "…"). */
const serverWords = (message: string) => message.replace(/^(?:\d{3} [A-Za-z ]+|Stream error): /, "");

function text(kind: Kind, message: string, error?: unknown, context: ErrorContext = {}): ErrorText {
  switch (kind) {
    case "stopped":
      return { tone: "info", title: "Stopped", detail: "You stopped this reply. Continue picks up where it left off." };
    case "dropped":
      return { tone: "warning", title: "The connection dropped mid-reply", detail: "The text so far is kept. Continue asks the model to carry on." };
    case "timeout": {
      const idle = error instanceof TimeoutError ? error.phase === "idle" : /No stream event/.test(message);
      return idle
        ? { tone: "warning", title: "The server went quiet", detail: "No data arrived for a while, so the reply was cut off. Continue or regenerate to try again." }
        : { tone: "warning", title: "The request took too long", detail: "It was cut off by the time limit. Try again." };
    }
    case "context-length": {
      // Live, the error has the numbers; from storage, only its message (DeepInfra's "Requested input length N exceeds maximum input length M").
      const live = error instanceof ContextLengthError ? error : undefined;
      const said = /(\d+)\D+?(\d+)\s*(?:tokens)?\s*$/.exec(serverWords(message));
      const requested = live?.requested ?? (said ? Number(said[1]) : undefined);
      const limit = live?.limit ?? (said ? Number(said[2]) : undefined);
      const counted = requested !== undefined && limit !== undefined ? `The server counted ${formatInt(requested)} tokens against a limit of ${formatInt(limit)}. ` : "";
      if (context.droppedTurns === 0) {
        // Nothing older to leave out: the message itself is what does not fit.
        return {
          tone: "error",
          title: "This message is too long for the model's context window",
          detail: `${counted || "The server said the prompt is too long. "}Shorten your message, or send it without the image.`,
        };
      }
      return {
        tone: "error",
        title: "This conversation no longer fits; older turns were dropped",
        detail:
          (requested !== undefined && limit !== undefined
            ? `Even after older turns were left out, the server counted ${formatInt(requested)} tokens against a limit of ${formatInt(limit)}. `
            : "Even after older turns were left out, the server said the prompt is too long. ") + "Start a new conversation, or shorten your message.",
      };
    }
    case "context-budget": {
      const e = error instanceof ContextBudgetError ? error : undefined;
      return {
        tone: "error",
        title: "This message is too long for the model",
        detail:
          (e
            ? `It needs about ${formatInt(e.needed)} tokens; only ${formatInt(e.available)} fit next to the space kept for the reply. `
            : "Even on its own it does not fit the model's context window. ") + "Nothing was sent: edit it, or send a shorter message in its place.",
      };
    }
    case "rate-limit":
      return { tone: "warning", title: "Rate limited", detail: "The server is getting too many requests. Wait a few seconds, then regenerate." };
    case "auth":
      return { tone: "error", title: "The server's DeepInfra token was rejected", detail: "Check DEEPINFRA_TOKEN where the Worker runs." };
    case "payment":
      return { tone: "error", title: "The DeepInfra account has no credit left", detail: "Add credit at deepinfra.com, then try again." };
    case "forbidden":
      return { tone: "error", title: "The server refused this page", detail: serverWords(message) };
    case "bad-request":
      return { tone: "error", title: "The server rejected the request", detail: serverWords(message) };
    case "not-found":
      return { tone: "error", title: "The server has no such model or endpoint", detail: serverWords(message) };
    case "server":
      return { tone: "error", title: "The model server failed", detail: serverWords(message) };
    case "stream-error":
      return { tone: "error", title: "The model stopped with an error", detail: serverWords(message) };
    case "connection":
      return { tone: "error", title: "Can't reach the server", detail: "Check your connection, and that the demo server is running (npm run demo)." };
    case "quota":
      return { tone: "error", title: "Storage is full", detail: "Delete old conversations to make room. Nothing on this page was lost." };
    case "storage":
      return { tone: "error", title: "Couldn't save to this browser's storage", detail: message };
    case "gone":
      return { tone: "error", title: "That conversation no longer exists", detail: "It was deleted, perhaps in another tab." };
    case "image":
      return { tone: "error", title: "That file isn't an image the model can read", detail: "Use a JPEG, PNG, WebP or GIF." };
    case "image-limit":
      return { tone: "error", title: "Too many images", detail: "This model reads one image per request." };
    case "invalid-reply":
      return { tone: "error", title: "The server's reply had an unexpected shape", detail: message };
    case "other":
      return { tone: "error", title: "Something went wrong", detail: message };
  }
}

/** A live error (a rejected reply, a failed store call). */
export function describeError(error: unknown, context?: ErrorContext): ErrorText {
  const message = error instanceof Error ? error.message : String(error);
  return text(kindOf(error), message, error, context);
}

/** The error stored with a reply: only its name and message survive a reload. */
export function describeStoredError(stored: { name: string; message: string }, context?: ErrorContext): ErrorText {
  return text(NAMES[stored.name] ?? "other", stored.message, undefined, context);
}

/** A line for the retry countdown: "Rate limited — retrying in 3 s". */
export function retryText(info: RetryInfo, secondsLeft: number): string {
  const when = secondsLeft > 0 ? `retrying in ${secondsLeft} s` : "retrying now";
  const kind = kindOf(info.error);
  const what =
    kind === "rate-limit" ? "Rate limited" : kind === "connection" ? "Can't reach the server" : kind === "timeout" ? "The server is slow" : kind === "server" ? "The server had a problem" : "The request failed";
  return `${what} — ${when} (attempt ${info.attempt + 1})`;
}
