// What every peer case shares: the running llama-server (from global-setup.mjs), a client for it, and the
// server's own counts: its /apply-template renders the chat template, its /tokenize counts the tokens.
import { inject } from "vitest";
import { createClient, type ChatMessage, type Client, type ClientOptions } from "../../src/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    peer: { baseURL: string; contextSize: number };
  }
}

export const peer = () => inject("peer");

/** llama-server serves one model whatever `model` says; the SDK still needs a name. */
export const MODEL = "tiny-llama";

/** A client for the server's OpenAI-compatible API, no key (llama-server runs without one). */
export function peerClient(options: ClientOptions = {}): Client {
  return createClient({ baseURL: `${peer().baseURL}/v1`, ...options });
}

/** POST JSON to one of the server's own endpoints and read its JSON answer. */
export async function serverPost<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${peer().baseURL}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The prompt the server makes of these messages: its chat template, rendered by itself (without the BOS token, which tokenizing adds). */
export async function renderPrompt(messages: ChatMessage[]): Promise<string> {
  return (await serverPost<{ prompt: string }>("/apply-template", { messages })).prompt;
}

/** Tokens of a text as the server's tokenizer counts them (special tokens written as text are parsed; `bos` adds <|begin_of_text|>). */
export async function countTokens(text: string, bos = false): Promise<number> {
  return (await serverPost<{ tokens: unknown[] }>("/tokenize", { content: text, add_special: bos, parse_special: true })).tokens.length;
}

/** The prompt tokens the server will count for these messages, by its own template and tokenizer. */
export const serverPromptTokens = async (messages: ChatMessage[]) => countTokens(await renderPrompt(messages), true);

/** The raw HTTP exchange, for comparing what the SDK made of it with what the server sent. */
export async function rawPost(path: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  const response = await fetch(`${peer().baseURL}${path}`, { method: "POST", headers, body });
  return { status: response.status, text: await response.text() };
}

/** One HTTP exchange of a `recordingClient`: the JSON it sent, the status, and the body as the server sent it. */
export interface Exchange {
  request: Record<string, any>;
  status: number;
  /**
   * The body, byte for byte as it passed to the SDK (SSE as the server sent it), growing as the SDK reads it: whole
   * once the SDK is done with the response. (Not a `clone()`: after llama.cpp's error event, when the SDK stops
   * reading and aborts the request, a clone's `text()` never settled.)
   */
  body: string;
}

/** A client for the server that keeps every exchange, the ones a Conversation makes without showing them too. */
export function recordingClient(options: ClientOptions = {}): { client: Client; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const client = peerClient({
    ...options,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const exchange: Exchange = { request: JSON.parse(String(init?.body)), status: response.status, body: "" };
      exchanges.push(exchange);
      if (!response.body) return response;
      const decoder = new TextDecoder();
      const tap = new TransformStream<Uint8Array, Uint8Array>({
        transform(bytes, controller) {
          exchange.body += decoder.decode(bytes, { stream: true });
          controller.enqueue(bytes);
        },
      });
      const { status, statusText, headers } = response;
      return new Response(response.body.pipeThrough(tap), { status, statusText, headers });
    },
  });
  return { client, exchanges };
}

/** The data chunks of a raw SSE body, as the server sent them ([DONE] left out). */
export function sseChunks(body: string): any[] {
  return body
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice(6)));
}
