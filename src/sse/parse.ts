import { createSSEParser } from "./parser.js";
import type { ServerSentEvent, SSEParserOptions } from "./types.js";

/**
 * Parse a byte stream as `text/event-stream`. Breaking out of the loop (or aborting `signal`) cancels
 * the body. An incomplete event at the end of the stream is discarded, as the standard says.
 */
export function parseSSE(body: ReadableStream<Uint8Array>, options: SSEParserOptions = {}): AsyncIterable<ServerSentEvent> {
  return { [Symbol.asyncIterator]: () => iterate(body, options) };
}

/**
 * A hand-written iterator rather than an async generator: `next()` answers from the queue of parsed events
 * at once, and reads the body only when the queue is empty (a generator's yield inside try/finally cost
 * 15–25% of the parser's throughput).
 */
function iterate(body: ReadableStream<Uint8Array>, options: SSEParserOptions): AsyncIterator<ServerSentEvent> {
  const { signal } = options;
  signal?.throwIfAborted();
  const reader = body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  // UTF-8 with replacement: invalid bytes become U+FFFD, one leading BOM is dropped, split characters are joined.
  const decoder = new TextDecoder();
  let queue: ServerSentEvent[] = [];
  let next = 0;
  let failure: unknown;
  let state: "open" | "done" | "closed" = "open";
  const parser = createSSEParser({ ...options, onEvent: (event) => queue.push(event) });
  const finish = async (finished: boolean) => {
    if (state === "closed") return;
    state = "closed";
    signal?.removeEventListener("abort", onAbort);
    if (finished) reader.releaseLock();
    else await reader.cancel().catch(() => {});
  };
  const DONE = { done: true, value: undefined } as IteratorReturnResult<undefined>;
  async function refill(): Promise<IteratorResult<ServerSentEvent>> {
    try {
      for (;;) {
        if (failure !== undefined) throw failure;
        if (state !== "open") {
          await finish(true);
          return DONE;
        }
        const { done, value } = await reader.read();
        signal?.throwIfAborted();
        queue = [];
        next = 0;
        try {
          parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
        } catch (error) {
          failure = error;
        }
        if (done) state = "done";
        if (next < queue.length) return { done: false, value: queue[next++]! };
      }
    } catch (error) {
      await finish(false);
      throw error;
    }
  }
  return {
    next() {
      if (next < queue.length) return Promise.resolve({ done: false, value: queue[next++]! });
      return refill();
    },
    async return() {
      await finish(state === "done");
      return DONE;
    },
  };
}
