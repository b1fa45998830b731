import { EventStreamParser } from "./parser.js";
import type { ServerSentEvent, SSEParserOptions } from "./types.js";

/** `body.pipeThrough(new SSEParserStream())`: bytes in, `ServerSentEvent`s out. */
export class SSEParserStream extends TransformStream<Uint8Array, ServerSentEvent> {
  constructor(options: Omit<SSEParserOptions, "signal"> = {}) {
    const decoder = new TextDecoder();
    let parser!: EventStreamParser;
    super({
      start(controller) {
        parser = new EventStreamParser(
          { onEvent: (event) => controller.enqueue(event), onComment: options.onComment, onRetry: options.onRetry },
          options.maxBufferSize,
        );
      },
      transform(chunk) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      },
      flush() {
        parser.feed(decoder.decode());
      },
    });
  }
}
