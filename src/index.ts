// edgechat: the client (create, stream, resume), its errors, Conversation with its fitting and images, the types of
// messages and of the store interface, and the memory store — what runs in every runtime and every app needs.
//
// Deliberately not exported here:
// - what only some apps or runtimes need, each in its own entry: the IndexedDB, Durable Object and Deno KV stores
//   (edgechat/idb, edgechat/durable-object, edgechat/deno-kv), the relay (edgechat/relay), the exact Llama 3
//   token counter (edgechat/tokenizer/llama3: 3 MB) and the SSE parser (edgechat/sse; its overflow error is also
//   here, because a ChatStream throws it);
// - classes whose constructors are ours: `ChatStream` and `Reply` are types (create() and send() make them);
// - internals: the chunk accumulator, the retry policy and its defaults, the request plumbing, the JSON document's
//   validation (use Conversation.fromJSON or a store's import), the tree rules, the stored-message codec, and the
//   preset lookup (MODEL_PRESETS is the table it reads);
// - a default export, and aliases: each name is exported once.

// The client
export { createClient } from "./client/client.js";
export type { ChatCompletions, Client } from "./client/client.js";
export type { ChatStream } from "./client/chat-stream.js";
export { toSSEStream, type SSEStreamOptions } from "./client/sse-stream.js";
export type { ClientOptions, HeaderInput, RequestOptions, ResumeOptions, RetryInfo } from "./client/options.js";
export type {
  AssistantMessageParam,
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsBase,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessage,
  ChatMessage,
  ContentPart,
  FinishReason,
  ImagePart,
  ResponseFormat,
  ResumePoint,
  SystemMessageParam,
  TextPart,
  Tool,
  ToolCall,
  ToolCallDelta,
  ToolChoice,
  ToolMessageParam,
  Usage,
  UserMessageParam,
} from "./client/types.js";

// Errors
export { EdgeChatError, isEdgeChatError } from "./errors/base.js";
export {
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ContextLengthError,
  InternalServerError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  type APIErrorInit,
  type ContextNumbers,
  type ValidationDetail,
} from "./errors/api.js";
export { ConnectionError, StreamInterruptedError, TimeoutError, UserAbortError, type TimeoutPhase } from "./errors/transport.js";
export { ValidationError, type ValidationIssue } from "./errors/validation.js";
export { BrowserKeyError } from "./client/browser.js";
export { SSEBufferOverflowError } from "./sse/overflow-error.js";

// Conversations
export { Conversation, CONTINUE_PROMPT } from "./conversation/conversation.js";
export type { ContextReport, ConversationChange, ConversationOptions, ConversationParams, SendOptions, ToolRunner, WhileBusy } from "./conversation/options.js";
export type { Reply, ReplyState } from "./conversation/reply.js";
export { ContextBudgetError, ImageLimitError } from "./conversation/errors.js";

// Fitting a history to a context window
export { fitToContext, OMITTED_IMAGE_TEXT, type FitOptions, type FitResult } from "./conversation/fit.js";
export type { FitMessage } from "./conversation/cost.js";
export { estimateTokens } from "./tokens/estimate.js";
export { MODEL_PRESETS, type ImageCost, type ImagePolicy, type ModelPreset, type TileRules } from "./models/presets.js";
export type { TemplateCost } from "./models/template.js";
export type { Calibration } from "./messages/calibration.js";

// Messages and the conversation document
export type {
  AssistantMessage,
  ImageContent,
  Message,
  MessageContent,
  MessagePart,
  ReplyStatus,
  TextContent,
  ToolCallPart,
  UserMessage,
} from "./messages/types.js";
export type { ConversationJSON, MessageJSON, PartJSON, SpentUsage } from "./messages/serialize.js";
export type { Forks } from "./messages/tree.js";

// Images
export { prepareImage, type PrepareImageOptions } from "./images/prepare.js";
export { UnsupportedImageError, type ContentInput, type ImageInput, type ImageInputPart } from "./images/input.js";
export { imageSize, type ImageSize } from "./images/size.js";

// Persistence: the store interface every store implements, and the one that runs anywhere
export { createMemoryStore } from "./store/memory.js";
export { ConversationNotFoundError, StorageError, StorageQuotaError } from "./store/errors.js";
export type {
  ConversationMeta,
  ConversationPage,
  ConversationStore,
  ListOptions,
  LoadOptions,
  LockOptions,
  MessagePage,
  NewConversation,
  StoreChange,
  StoreChangeKind,
} from "./store/types.js";
