// Completions and streams against llama-server: typed results, prompt_tokens as the server itself counts them
// (its template, its tokenizer), streamed text equal to the raw deltas, and usage only when asked for.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, Usage } from "../../src/index.ts";
import { MODEL, peerClient, rawPost, serverPromptTokens, sseChunks } from "./peer.ts";

const messages: ChatMessage[] = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "Name three rivers of Europe, then say which is longest." },
];
// Greedy decoding: the same prompt always gets the same tokens, streamed or not.
const params = { model: MODEL, messages, max_tokens: 24, temperature: 0 };

/** The content deltas of a raw SSE body, as the server sent them. */
function rawDeltas(body: string): { deltas: string[]; chunks: any[] } {
  const chunks = sseChunks(body);
  return { chunks, deltas: chunks.map((c) => c.choices[0]?.delta?.content ?? "").filter(Boolean) };
}

describe("a completion", () => {
  it("is typed, and its usage.prompt_tokens is the server's own count of the templated prompt", async () => {
    const completion = await peerClient().chat.completions.create(params);
    expectTypeOf(completion).toEqualTypeOf<ChatCompletion>();
    expectTypeOf(completion.usage).toEqualTypeOf<Usage | null | undefined>();

    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toEqual(expect.any(String));
    expect(completion.choices).toHaveLength(1);
    const [choice] = completion.choices;
    expect(choice?.message.role).toBe("assistant");
    expect(choice?.message.content).toEqual(expect.any(String));
    expect(["stop", "length"]).toContain(choice?.finish_reason);
    const usage = completion.usage!;
    expect(usage.prompt_tokens).toBe(await serverPromptTokens(messages));
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeLessThanOrEqual(24);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });
});

describe("a stream", () => {
  it("without stream_options.include_usage: the same text as the completion and as the raw deltas, and no usage (llama.cpp sends it only when asked)", async () => {
    const client = peerClient();
    const completion = await client.chat.completions.create(params);
    const stream = client.chat.completions.create({ ...params, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const final = await stream.finalChatCompletion();

    const raw = rawDeltas((await rawPost("/v1/chat/completions", JSON.stringify({ ...params, stream: true }))).text);
    const sdkDeltas = chunks.map((c) => c.choices[0]?.delta.content ?? "").filter(Boolean);
    expect(sdkDeltas).toEqual(raw.deltas);
    expect(sdkDeltas.join("")).toBe(completion.choices[0]?.message.content);
    expect(final.choices[0]?.message.content).toBe(completion.choices[0]?.message.content);
    expect(final.choices[0]?.finish_reason).toBe(completion.choices[0]?.finish_reason);
    expect(raw.chunks.some((c) => c.usage)).toBe(false);
    expect(final.usage ?? undefined).toBeUndefined();
  });

  it("with stream_options.include_usage: the usage chunk (empty choices) is read, its prompt_tokens the server's count", async () => {
    const client = peerClient();
    const completion = await client.chat.completions.create(params);
    const stream = client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const final = await stream.finalChatCompletion();

    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: completion.usage!.prompt_tokens, completion_tokens: completion.usage!.completion_tokens });
    expect(final.usage).toMatchObject({
      prompt_tokens: await serverPromptTokens(messages),
      completion_tokens: completion.usage!.completion_tokens,
      total_tokens: completion.usage!.total_tokens,
    });
    expect(final.choices[0]?.message.content).toBe(completion.choices[0]?.message.content);
  });

  it("textStream gives the content deltas, none empty", async () => {
    const stream = peerClient().chat.completions.create({ ...params, stream: true });
    const deltas: string[] = [];
    for await (const delta of stream.textStream) deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((d) => d.length > 0)).toBe(true);
    expect(deltas.join("")).toBe(stream.currentText);
  });
});
