import { EventStreamParser } from "./parser.js";
import type { ServerSentEvent, SSEParserOptions } from "./types.js";

/**
 * Parse a byte stream as `text/event-stream`. Breaking out of the loop (or aborting `signal`) cancels
 * the body. An incomplete event at the end of the stream is discarded, as the standard says.
 */
export function parseSSE(body: ReadableStream<Uint8Array>, options: SSEParserOptions = {}): AsyncIterable<ServerSentEvent> {
  return { [Symbol.asyncIterator]: () => iterate(body, options) };
}

async function* iterate(body: ReadableStream<Uint8Array>, options: SSEParserOptions): AsyncGenerator<ServerSentEvent, void, undefined> {
  const { signal } = options;
  signal?.throwIfAborted();
  const reader = body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });

  // UTF-8 with replacement: invalid bytes become U+FFFD, one leading BOM is dropped, split characters are joined.
  const decoder = new TextDecoder();
  let queue: ServerSentEvent[] = [];
  const parser = new EventStreamParser(
    { onEvent: (event) => queue.push(event), onComment: options.onComment, onRetry: options.onRetry },
    options.maxBufferSize,
  );
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      let failure: unknown;
      try {
        parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      } catch (error) {
        failure = error;
      }
      // Events completed before a failure in the same chunk are still delivered, so results never depend on chunking.
      if (queue.length > 0) {
        const events = queue;
        queue = [];
        for (let i = 0; i < events.length; i++) yield events[i]!;
      }
      if (failure !== undefined) throw failure;
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (finished) reader.releaseLock();
    else await reader.cancel().catch(() => {});
  }
}
