// The client
export { createClient, type ChatCompletions, type Client } from "./client/client.js";
export { ChatStream } from "./client/chat-stream.js";
export { BrowserKeyError } from "./client/browser.js";
export type { ClientOptions, HeaderInput, RequestOptions, ResumeOptions, RetryInfo } from "./client/options.js";
export type * from "./client/types.js";

// Errors
export * from "./errors/index.js";
export { SSEBufferOverflowError } from "./sse/overflow-error.js";

// Conversations and context fitting
export {
  Conversation,
  type ContextReport,
  type ConversationChange,
  type ConversationOptions,
  type ConversationParams,
  type SendOptions,
  type WhileBusy,
} from "./conversation/conversation.js";
export { CONTINUE_PROMPT } from "./conversation/conversation.js";
export { Reply, type ReplyState } from "./conversation/reply.js";
export { fitToContext, OMITTED_IMAGE_TEXT, type FitOptions, type FitResult } from "./conversation/fit.js";
export type { FitMessage } from "./conversation/cost.js";
export { ContextBudgetError, ImageLimitError } from "./conversation/errors.js";
export { MODEL_PRESETS, type ImageCost, type ImagePolicy, type ModelPreset } from "./models/presets.js";
export type { Calibration } from "./messages/calibration.js";
export type { TemplateCost } from "./models/template.js";
export type { ConversationJSON, SpentUsage } from "./messages/serialize.js";
export type * from "./messages/types.js";
export { estimateTokens } from "./tokens/estimate.js";

// Images
export { prepareImage, type PrepareImageOptions } from "./images/prepare.js";
export { UnsupportedImageError, type ContentInput, type ImageInput, type ImageInputPart } from "./images/input.js";
export { imageSize, type ImageSize } from "./images/size.js";

// Persistence
export { createMemoryStore } from "./store/memory.js";
export { ConversationNotFoundError, StorageError, StorageQuotaError } from "./store/errors.js";
export type * from "./store/types.js";
