import { createSSEParser } from "./parser.js";
import type { ServerSentEvent, SSEParser, SSEParserOptions } from "./types.js";

/** `body.pipeThrough(new SSEParserStream())`: bytes in, `ServerSentEvent`s out. */
export class SSEParserStream extends TransformStream<Uint8Array, ServerSentEvent> {
  constructor(options: Omit<SSEParserOptions, "signal"> = {}) {
    const decoder = new TextDecoder();
    let parser!: SSEParser;
    super({
      start(controller) {
        parser = createSSEParser({ ...options, onEvent: (event) => controller.enqueue(event) });
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
