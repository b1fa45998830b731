export { createClient, type ChatCompletions, type Client } from "./client/client.js";
export { ChatStream } from "./client/chat-stream.js";
export { BrowserKeyError } from "./client/browser.js";
export type { ClientOptions, RequestOptions, RetryInfo } from "./client/options.js";
export type * from "./client/types.js";
export * from "./errors/index.js";
export { SSEBufferOverflowError } from "./sse/overflow-error.js";
