// edgechat/sse: the spec-exact, bounded SSE parser under the client, for any `text/event-stream` — three ways in
// (an async iterable, a TransformStream, a callback parser), their options and event type, and the overflow error.
//
// Deliberately not exported: anything about chat completions (the client decodes its chunks itself; a stream
// re-encoded as SSE is `toSSEStream` in edgechat), reconnection (EventSource's; a relayed chat stream resumes
// itself, see `resumable` in edgechat), the default buffer cap as a constant (it is documented on
// `maxBufferSize`), and an encoder. `SSEBufferOverflowError` is also exported by edgechat, since a ChatStream
// throws it: one class, the same object from either entry.
export { parseSSE } from "./parse.js";
export { SSEParserStream } from "./stream.js";
export { createSSEParser } from "./parser.js";
export { SSEBufferOverflowError } from "./overflow-error.js";
export type { ServerSentEvent, SSEParser, SSEParserConfig, SSEParserOptions } from "./types.js";
