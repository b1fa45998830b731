export { parseSSE } from "./parse.js";
export { SSEParserStream } from "./stream.js";
export { SSEBufferOverflowError } from "./overflow-error.js";
export type { ServerSentEvent, SSEParserOptions } from "./types.js";
