import { EdgeChatError } from "../errors/base.js";

/** What must be sent (system, pinned and newest turn) does not fit the budget: nothing was sent. */
export class ContextBudgetError extends EdgeChatError {
  static override readonly kind: string = "ContextBudgetError";
  /** Estimated tokens of what must be sent. */
  readonly needed: number;
  /** Tokens available for input: context window − reserved output − safety margin. */
  readonly available: number;
  constructor(needed: number, available: number) {
    super(
      `The system message, pinned messages and newest message need about ${needed} tokens, but only ${available} are available ` +
        `for input (context window minus reserved output). Shorten the message or lower maxOutputTokens.`,
    );
    this.needed = needed;
    this.available = available;
  }
}

/** imagePolicy "error": the messages to send hold more images than the model takes in one request. */
export class ImageLimitError extends EdgeChatError {
  static override readonly kind: string = "ImageLimitError";
  readonly count: number;
  readonly max: number;
  constructor(count: number, max: number) {
    super(`The request would carry ${count} images, but the model accepts ${max} per request (imagePolicy: "error")`);
    this.count = count;
    this.max = max;
  }
}
