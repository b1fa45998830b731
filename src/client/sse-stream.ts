import { APIError } from "../errors/api.js";
import { type ChatStream, ChatStreamImpl } from "./chat-stream.js";

export interface SSEStreamOptions {
  /** Milliseconds of silence after which a `: keep-alive` comment is written. Default 15 000; 0 disables. */
  keepAliveMs?: number;
}

/**
 * `stream` re-encoded as server-sent events (`data: {chunk}` … `data: [DONE]`), the wire format it came in: what a
 * Worker returns to relay a stream, as `new Response(toSSEStream(stream), { headers: { "content-type":
 * "text/event-stream" } })`, and what this SDK (or any OpenAI-compatible client) reads back. Not openai-node's
 * `toReadableStream()`, which writes newline-delimited JSON for its `Stream.fromReadableStream`.
 *
 * A server error mid-stream is forwarded as an `event: error` so the client on the other end gets it typed. Comments
 * from upstream are forwarded, and a keep-alive comment is sent after `keepAliveMs` of silence: a relay only notices
 * that its client has gone when it writes (workerd), and proxies cut idle streams. Cancelling the returned stream
 * aborts the request at once. This is the stream's one iteration.
 */
export function toSSEStream(stream: ChatStream, options: SSEStreamOptions = {}): ReadableStream<Uint8Array> {
  const iterator = stream[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastWrite = Date.now();
  let write!: (text: string) => void;
  const stop = () => {
    clearInterval(timer);
    ChatStreamImpl.onComment(stream, undefined);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      write = (text) => {
        lastWrite = Date.now();
        controller.enqueue(encoder.encode(text));
      };
      ChatStreamImpl.onComment(stream, (text) => write(`:${text}\n\n`));
      if (keepAliveMs > 0 && Number.isFinite(keepAliveMs)) {
        timer = setInterval(() => {
          if (Date.now() - lastWrite >= keepAliveMs) write(": keep-alive\n\n");
        }, Math.max(1, Math.floor(keepAliveMs / 2)));
      }
    },
    async pull(controller) {
      let last: string;
      try {
        const { done, value } = await iterator.next();
        if (!done) return write(`data: ${JSON.stringify(value)}\n\n`);
        last = "data: [DONE]\n\n";
      } catch (error) {
        if (!(error instanceof APIError)) {
          stop();
          throw error;
        }
        const payload = { error: { message: error.message, type: error.type, code: error.status ?? error.code } };
        last = `event: error\ndata: ${JSON.stringify(payload)}\n\n`;
      }
      stop();
      write(last);
      controller.close();
    },
    async cancel(reason) {
      stop();
      // Abort first: return() would queue behind a read that waits for the next event.
      stream.abort(reason);
      await iterator.return?.();
    },
  });
}
