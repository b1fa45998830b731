// A local stand-in for DeepInfra that counts prompt tokens the way the server does: the Llama 3 chat
// template rendered and tokenized by the real Llama 3 tokenizer (llama3-tokenizer-js), and images by tiles.
import llama3Tokenizer from "llama3-tokenizer-js";
import { tileCount } from "../../src/images/tiles.ts";
import { imageSize } from "../../src/images/size.ts";
import type { Handler } from "./upstream.ts";
import { chunk, sse, startSSE, usage } from "./upstream.ts";

const encode = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false }).length;

export interface ServerTokenRules {
  /** Tokens the server charges per 560-px tile of an image (vLLM: 1,601; some servers count an image as ~1). */
  tokensPerTile?: number;
  /** Llama 3.2's template puts a date preamble in the system header. */
  datePreamble?: boolean;
}

/** prompt_tokens as a Llama 3.2 Vision server counts them for these API messages. */
export function llamaPromptTokens(messages: any[], rules: ServerTokenRules = {}): number {
  const perTile = rules.tokensPerTile ?? 1601;
  let tokens = 1; // <|begin_of_text|>
  let system = rules.datePreamble === false ? "" : "Cutting Knowledge Date: December 2023\nToday Date: 25 Nov 2026\n\n";
  const rest = messages.filter((m) => {
    if (m.role !== "system") return true;
    system += m.content;
    return false;
  });
  const header = 4; // <|start_header_id|> role <|end_header_id|> \n\n
  if (system) tokens += header + encode(system) + 1;
  for (const m of rest) {
    tokens += header + 1; // + <|eot_id|>
    if (typeof m.content === "string") tokens += encode(m.content);
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (part.type === "text") tokens += encode(part.text);
        else {
          const url: string = part.image_url.url;
          const bytes = url.startsWith("data:") ? Uint8Array.from(atob(url.slice(url.indexOf(",") + 1)), (c) => c.charCodeAt(0)) : undefined;
          tokens += 1 + tileCount(bytes && imageSize(bytes), { tileSize: 560, maxTiles: 4 }) * perTile;
        }
      }
    }
  }
  return tokens + header; // the assistant header that opens the reply
}

export interface LlamaServerOptions extends ServerTokenRules {
  /** Reject, with DeepInfra's 500 body, any request whose prompt exceeds this many tokens. */
  maxInputTokens?: number;
  /** The reply to stream; default echoes how many tokens the server counted. */
  reply?: (body: any, promptTokens: number) => string[];
  /** Record each request's counted prompt tokens. */
  counted?: number[];
}

/** A streaming handler that answers with usage.prompt_tokens counted by the real tokenizer. */
export function llamaServer(options: LlamaServerOptions = {}): Handler {
  return (req, res) => {
    const prompt = llamaPromptTokens(req.body.messages, options);
    options.counted?.push(prompt);
    if (options.maxInputTokens !== undefined && prompt > options.maxInputTokens) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `Requested input length ${prompt} exceeds maximum input length ${options.maxInputTokens}` } }));
      return;
    }
    const parts = options.reply?.(req.body, prompt) ?? ["You sent ", `${prompt} tokens.`];
    startSSE(res);
    res.write(sse(chunk({ role: "assistant", content: "" })));
    for (const p of parts) res.write(sse(chunk({ content: p })));
    res.write(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(prompt, parts.length) })));
    res.end(sse("[DONE]"));
  };
}
