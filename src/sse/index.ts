export { parseSSE } from "./parse.js";
export { SSEParserStream } from "./stream.js";
export { createSSEParser } from "./parser.js";
export { SSEBufferOverflowError } from "./overflow-error.js";
export type { ServerSentEvent, SSEParser, SSEParserConfig, SSEParserOptions } from "./types.js";
