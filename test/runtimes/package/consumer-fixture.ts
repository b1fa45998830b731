// What a TypeScript user writes against the published package. The package suite writes these into the
// consumer project (where `edgechat` is the installed tarball) and type-checks them with tsc under
// moduleResolution "bundler" and "nodenext", and with `deno check`. Kept as strings: in this repository
// `edgechat` does not resolve, so test/tsconfig.json must not see them as code.

/** Uses the public API the README documents; `@ts-expect-error` lines prove the types are not `any`. */
export const consumerSource = String.raw`
import {
  APIError,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatStream,
  ContextLengthError,
  Conversation,
  createClient,
  EdgeChatError,
  isEdgeChatError,
  RateLimitError,
  type RetryInfo,
  StreamInterruptedError,
  TimeoutError,
  toSSEStream,
  UnprocessableEntityError,
  UserAbortError,
} from "edgechat";
import { parseSSE, type ServerSentEvent, SSEParserStream } from "edgechat/sse";
import { ObjectValidationError, type ObjectStream, streamObject } from "edgechat/structured";
import { tool, toolset } from "edgechat/tools";
import * as v from "valibot";

const client = createClient({ baseURL: "http://127.0.0.1:8080/v1/openai", maxRetries: 1, onRetry: (info: RetryInfo) => void info.delayMs });

export async function complete(): Promise<number | undefined> {
  const completion: ChatCompletion = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] });
  // @ts-expect-error -- a non-streaming create() resolves a ChatCompletion, not a ChatStream
  const notAStream: ChatStream = await client.chat.completions.create({ model: "m", messages: [] });
  void notAStream;
  // @ts-expect-error -- estimated_cost is a number
  const wrong: string | undefined = completion.usage?.estimated_cost;
  void wrong;
  return completion.usage?.estimated_cost;
}

export async function stream(signal: AbortSignal): Promise<string> {
  const s: ChatStream = client.chat.completions.create(
    {
      model: "meta-llama/Llama-3.2-90B-Vision-Instruct",
      messages: [{ role: "user", content: [{ type: "text", text: "What is in this picture?" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }],
      stream: true,
    },
    { signal, idleTimeout: 30_000 },
  );
  for await (const chunk of s) {
    const c: ChatCompletionChunk = chunk;
    void c.choices[0]?.delta.content;
  }
  let text = "";
  for await (const t of s.textStream) text += t;
  const final: ChatCompletion = await s.finalChatCompletion();
  s.abort();
  const relay: ReadableStream<Uint8Array> = toSSEStream(s);
  void relay;
  return final.choices[0]?.message.content ?? text + s.currentText;
}

export function classify(error: unknown): string {
  if (error instanceof ContextLengthError) return String(error.limit) + String(error.requested);
  if (error instanceof RateLimitError) return String(error.headers?.get("retry-after"));
  if (error instanceof UnprocessableEntityError) return error.details.map((d) => d.msg + d.loc.join(".")).join();
  if (error instanceof APIError) return String(error.status) + String(error.requestID) + String(error.retryable);
  if (error instanceof TimeoutError) return error.phase;
  if (error instanceof UserAbortError || error instanceof StreamInterruptedError) return error.name;
  if (error instanceof EdgeChatError) return error.message;
  return isEdgeChatError(error) ? "copy" : "other";
}

export async function events(body: ReadableStream<Uint8Array>, other: ReadableStream<Uint8Array>): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const e of parseSSE(body, { maxBufferSize: 1024, onComment: (c: string) => void c })) out.push(e);
  const piped: ReadableStream<ServerSentEvent> = other.pipeThrough(new SSEParserStream());
  void piped;
  return out;
}

// edgechat/structured: the value is typed by the schema, partial values by its DeepPartial.
const Weather = v.object({ city: v.string(), temperature: v.number() });
export async function weather(): Promise<string> {
  const stream: ObjectStream<{ city: string; temperature: number }> = streamObject(client, { model: "m", messages: [], schema: Weather });
  for await (const partial of stream) void partial.city?.toUpperCase();
  const value = await stream.value;
  // @ts-expect-error -- temperature is a number
  const wrong: string = value.temperature;
  void wrong;
  try {
    return value.city;
  } catch (error) {
    return error instanceof ObjectValidationError ? error.text : "";
  }
}

// edgechat/tools: execute gets the schema's output.
const add = tool({ parameters: v.object({ a: v.number(), b: v.number() }), execute: ({ a, b }) => a + b });
// @ts-expect-error -- no "c" in the arguments' schema
tool({ parameters: v.object({ a: v.number() }), execute: ({ c }) => c });
export const chat = new Conversation({ client, model: "m", tools: toolset({ add }) });

// @ts-expect-error -- baseURL is a string
createClient({ baseURL: 42 });
// @ts-expect-error -- model is required
void client.chat.completions.create({ messages: [] });
`;

/** Internals are not part of the package: a deep import must not resolve (tsc only: Deno fails the graph). */
export const internalsSource = String.raw`
// @ts-expect-error -- not in "exports"
import type { ChatStream } from "edgechat/dist/client/chat-stream.js";
export type Internal = ChatStream;
`;
