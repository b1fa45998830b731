// Request and response types for OpenAI-compatible Chat Completions, as DeepInfra documents them.

export interface TextPart {
  type: "text";
  text: string;
}

export interface ImagePart {
  type: "image_url";
  image_url: {
    /** An `https:` URL or a `data:image/...;base64,` URL. */
    url: string;
    detail?: "auto" | "low" | "high";
  };
}

export type ContentPart = TextPart | ImagePart;

export interface SystemMessageParam {
  role: "system";
  content: string | TextPart[];
  name?: string;
}

export interface UserMessageParam {
  role: "user";
  /** A single text part is safest sent as a plain string: some servers reject parts for text-only models. */
  content: string | ContentPart[];
  name?: string;
}

export interface AssistantMessageParam {
  role: "assistant";
  content?: string | TextPart[] | null;
  tool_calls?: ToolCall[];
  name?: string;
}

export interface ToolMessageParam {
  role: "tool";
  content: string | TextPart[];
  tool_call_id: string;
}

export type ChatMessage = SystemMessageParam | UserMessageParam | AssistantMessageParam | ToolMessageParam;

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface Tool {
  type: "function";
  function: {
    name: string;
    description?: string;
    /** A JSON Schema object. */
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

export type ResponseFormat =
  | { type: "text" | "json_object" }
  | { type: "json_schema"; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean } };

/** DeepInfra accepts a string; `"auto"` and `"none"` are the safe values. */
export type ToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export interface ChatCompletionCreateParamsBase {
  model: string;
  messages: ChatMessage[];
  /** Most tokens to generate; when null the server uses min(context − input, 16384). */
  max_tokens?: number | null;
  /** 0–2. */
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
  /** −2..2. */
  presence_penalty?: number;
  /** −2..2. */
  frequency_penalty?: number;
  stop?: string | string[] | null;
  n?: number;
  seed?: number;
  /** DeepInfra documents `text` and `json_object`; vLLM, llama.cpp and OpenAI take `json_schema` too. */
  response_format?: ResponseFormat;
  tools?: Tool[];
  tool_choice?: ToolChoice;
  logprobs?: boolean;
  top_logprobs?: number;
  user?: string;
  stream_options?: { include_usage?: boolean; continuous_usage_stats?: boolean };
  reasoning_effort?: string;
  prompt_cache_key?: string;
  chat_template_kwargs?: Record<string, unknown>;
}

export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
}

export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}

export type ChatCompletionCreateParams = ChatCompletionCreateParamsStreaming | ChatCompletionCreateParamsNonStreaming;

/** `cancelled`: a relay ended the generation (a Stop, from any reader, or one of its caps); see `ChatStream.resumable`. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call" | "cancelled" | (string & {});

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** DeepInfra's price of the request, in US dollars. May be missing from streamed usage. */
  estimated_cost?: number;
  [extra: string]: unknown;
}

export interface ChatCompletionMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
  [extra: string]: unknown;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
  [extra: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object?: string;
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: Usage | null;
  [extra: string]: unknown;
}

export interface ToolCallDelta {
  /** Missing from some servers: the delta's place in the chunk. */
  index?: number;
  id?: string | null;
  type?: string | null;
  function?: { name?: string | null; arguments?: string | null; [extra: string]: unknown } | null;
  [extra: string]: unknown;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: {
    role?: string;
    content?: string | null;
    tool_calls?: ToolCallDelta[] | null;
    [extra: string]: unknown;
  };
  finish_reason?: FinishReason | null;
  logprobs?: unknown;
  [extra: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object?: string;
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  /** DeepInfra sends usage in the chunk that carries `finish_reason`. */
  usage?: Usage | null;
  [extra: string]: unknown;
}

/** Where a resumable stream is (`stream.resumable`): its generation's URL, and the id of the last event read. */
export interface ResumePoint {
  /** Absolute. */
  url: string;
  /** The id of the last event whose chunk was handed out; empty before the first: resuming then starts at the beginning. */
  lastEventId: string;
}
