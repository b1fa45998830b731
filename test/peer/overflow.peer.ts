// llama.cpp's context overflow, as the client sees it. A prompt of n_ctx tokens or more is refused, before any
// event when streaming:
//   400 {"error":{"code":400,"message":"request (2975 tokens) exceeds the available context size (2048 tokens), try
//        increasing it","type":"exceed_context_size_error","n_prompt_tokens":2975,"n_ctx":2048}}
// n_ctx bounds prompt plus output, but only the prompt is checked: one that fits is served whatever max_tokens
// says, and the reply is cut where the window ends (finish_reason "length").
import { describe, expect, it } from "vitest";
import { ContextLengthError, type RetryInfo } from "../../src/index.ts";
import { MODEL, peer, peerClient, serverPromptTokens } from "./peer.ts";

const words = (n: number) => Array.from({ length: n }, (_, i) => ["river", "mill", "harvest", "coast"][i % 4]).join(" ");

describe("a prompt longer than the server's window", () => {
  it("is a ContextLengthError with llama.cpp's numbers: limit n_ctx covering prompt plus output, the prompt's tokens, never retried", async () => {
    const messages = [{ role: "user" as const, content: words(2900) }];
    const prompt = await serverPromptTokens(messages);
    expect(prompt).toBeGreaterThan(peer().contextSize);
    const retries: RetryInfo[] = [];
    const client = peerClient({ onRetry: (info) => retries.push(info) });

    const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16 }).catch((e: unknown) => e);
    const stream = client.chat.completions.create({ model: MODEL, messages, max_tokens: 16, stream: true });
    const streamed = await stream.finalChatCompletion().catch((e: unknown) => e);

    for (const error of [whole, streamed]) {
      expect(error).toBeInstanceOf(ContextLengthError);
      expect(error).toMatchObject({
        status: 400,
        type: "exceed_context_size_error",
        limit: peer().contextSize,
        promptTokens: prompt,
        covers: "prompt+output",
        retryable: false,
        message: `400 Bad request: request (${prompt} tokens) exceeds the available context size (${peer().contextSize} tokens), try increasing it`,
      });
    }
    expect(retries).toEqual([]);
  });

  it("a prompt that fits with max_tokens that does not: served, the reply cut at the window's end with finish_reason length", async () => {
    const messages = [{ role: "user" as const, content: words(1960) }];
    const prompt = await serverPromptTokens(messages);
    expect(prompt).toBeLessThan(peer().contextSize);
    const completion = await peerClient().chat.completions.create({ model: MODEL, messages, max_tokens: 500, temperature: 0 });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage).toMatchObject({ prompt_tokens: prompt });
    expect(completion.usage!.total_tokens).toBeLessThanOrEqual(peer().contextSize);
    expect(completion.usage!.completion_tokens).toBeLessThan(500);
  });
});
