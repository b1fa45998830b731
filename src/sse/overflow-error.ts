import { EdgeChatError } from "../errors/base.js";

/** A single line of the event stream grew beyond `maxBufferSize`: the stream is not SSE, or is hostile. */
export class SSEBufferOverflowError extends EdgeChatError {
  static override readonly kind: string = "SSEBufferOverflowError";
  readonly maxBufferSize: number;

  constructor(maxBufferSize: number) {
    super(`An event-stream line grew beyond maxBufferSize (${maxBufferSize} characters); the stream was stopped`);
    this.maxBufferSize = maxBufferSize;
  }
}
