export { EdgeChatError, isEdgeChatError } from "./base.js";
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
  type ValidationDetail,
} from "./api.js";
export { ConnectionError, StreamInterruptedError, TimeoutError, type TimeoutPhase, UserAbortError } from "./transport.js";
export { ValidationError, type ValidationIssue } from "./validation.js";
