// Conversations against llama-server's real context window (-c 2048): an overflow the SDK did not foresee is
// trimmed and sent again without the user seeing it; a long conversation in the right window is never refused,
// with the default estimate or exact Llama 3 counts.
import { beforeAll, describe, expect, it } from "vitest";
import { type AssistantMessage, Conversation, type ConversationOptions, createMemoryStore } from "../../src/index.ts";
import { countTokensLlama3 } from "../../src/tokens/llama3.ts";
import { MODEL, peer, peerClient } from "./peer.ts";
import { userMessages } from "./texts.ts";

const MAX_OUTPUT = 48;

interface Exchange {
  status: number;
  /** llama.cpp's count, from its error body. */
  overflow?: { n_prompt_tokens: number; n_ctx: number };
}

interface Run {
  conversation: Conversation;
  replies: AssistantMessage[];
  /** Every HTTP exchange, the ones the user never sees too. */
  exchanges: Exchange[];
  /** Per turn: the SDK's estimate of the prompt it sent, and the server's count of it. */
  turns: { estimate: number; served: number }[];
}

/** A conversation of `texts`, sent one at a time as a user types; a rejected reply throws, which is the failure. */
async function converse(texts: string[], options: Partial<ConversationOptions>): Promise<Run> {
  const exchanges: Exchange[] = [];
  const client = peerClient({
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const exchange: Exchange = { status: response.status };
      if (response.status === 400) exchange.overflow = (await response.clone().json()).error;
      exchanges.push(exchange);
      return response;
    },
  });
  const conversation = await Conversation.create(createMemoryStore(), {
    client,
    model: MODEL,
    maxOutputTokens: MAX_OUTPUT,
    params: { temperature: 0 },
    ...options,
  });
  const replies: AssistantMessage[] = [];
  const turns: Run["turns"] = [];
  for (const text of texts) {
    const reply = await conversation.send(text).done;
    replies.push(reply);
    turns.push({ estimate: conversation.lastContext!.tokens, served: reply.usage!.prompt_tokens });
  }
  return { conversation, replies, exchanges, turns };
}

/** The turns whose prompt, as the server counted it, left less than max_tokens of the window. */
const SYSTEM = "You answer in one line.";

const overfull = (run: Run) => run.turns.map((t, i) => ({ turn: i + 1, ...t })).filter((t) => t.served + MAX_OUTPUT > peer().contextSize);

describe("a Conversation told a larger window than the server's", () => {
  it("turns llama.cpp's exceed_context_size_error into a trim and a retry: 4,096 told, 2,048 served, no error reaches the user", async () => {
    const run = await converse(userMessages(12, 1400, 11), { system: SYSTEM, contextWindow: 4096 });
    const { conversation, replies, exchanges } = run;

    const overflows = exchanges.filter((e) => e.status === 400);
    expect(overflows.length).toBeGreaterThan(0);
    for (const e of overflows) expect(e.overflow).toMatchObject({ n_ctx: peer().contextSize, n_prompt_tokens: expect.any(Number) });
    // Each overflow is followed by the trimmed request that succeeds, and the window is learnt from the first.
    exchanges.forEach((e, i) => e.status === 400 && expect(exchanges[i + 1]?.status).toBe(200));
    expect(conversation.contextWindow).toBe(peer().contextSize);
    expect(replies.filter((r) => r.contextRetry)).toHaveLength(overflows.length);
    // After learning the window, the next requests fit the first time.
    const firstRetry = replies.findIndex((r) => r.contextRetry);
    expect(replies.slice(firstRetry + 1).filter((r) => r.contextRetry)).toEqual([]);
    expect(conversation.messages.filter((m) => m.role === "assistant" && m.status === "error")).toEqual([]);
    // The store has the whole conversation, trimmed requests or not.
    expect(conversation.messages).toHaveLength(24);
    console.log(`4,096 told: ${overflows.length} overflow(s) (turn ${firstRetry + 1}: ${overflows[0]!.overflow!.n_prompt_tokens} tokens), each trimmed and sent again`);
  }, 180_000);
});

describe("a long Conversation in the server's window, default token estimate", () => {
  let run: Run;
  beforeAll(async () => void (run = await converse(userMessages(42, 700, 23), { system: SYSTEM, contextWindow: peer().contextSize })), 400_000);

  it("42 turns of prose, CJK, code and JSON in 2,048 tokens: no request refused, no error, older turns left out of the requests", () => {
    expect(run.exchanges.map((e) => e.status).filter((s) => s !== 200)).toEqual([]);
    expect(run.exchanges).toHaveLength(42);
    expect(run.replies.filter((r) => r.status === "error" || r.contextRetry)).toEqual([]);
    expect(run.conversation.lastContext!.droppedTurns).toBeGreaterThan(20);
    expect(run.conversation.messages).toHaveLength(84);
  });

  // Once a bug (issue 17, point 2): estimateTokens under-counted Chinese written with a space between characters by
  // about a third (45 estimated, 69–72 served for a line of it), so some requests went out with prompt + max_tokens
  // over n_ctx and llama.cpp cut their reply short. The estimator counts such text high now.
  it("every prompt leaves max_tokens of the window (no reply cut short by the window)", () => {
    expect(overfull(run)).toEqual([]);
  });
});

describe("a long Conversation in the server's window, exact Llama 3 counts (edgechat/tokenizer/llama3)", () => {
  // No `system`: the Conversation leaves its own system prompt out of the count (see the known issue below).
  it("24 turns: the SDK's count is the server's within a few tokens, and every prompt leaves max_tokens of the window", async () => {
    const run = await converse(userMessages(24, 700, 23), { contextWindow: peer().contextSize, countTokens: countTokensLlama3 });
    expect(run.exchanges.map((e) => e.status).filter((s) => s !== 200)).toEqual([]);
    expect(overfull(run)).toEqual([]);
    for (const { estimate, served } of run.turns) expect(Math.abs(estimate - served)).toBeLessThanOrEqual(8);
    expect(run.conversation.lastContext!.droppedTurns).toBeGreaterThan(5);
  }, 240_000);
});

describe("a Conversation with a long system prompt, in the server's window", () => {
  // Once a bug: `Conversation` fitted only its messages to the window, and its `system` text (1,212 tokens here)
  // was sent on top: from the third turn every request was 2,163–2,438 tokens, llama.cpp refused it, and the
  // trim-and-retry sent the very same prompt again. The system message is part of the fit now.
  it("is counted, so no request overflows and no error reaches the user", async () => {
    const system =
      "You are the support assistant of a river shipping company. " +
      "Answer questions about schedules, fares, luggage and harbours politely and precisely. ".repeat(80);
    const run = await converse(userMessages(6, 700, 5), { system, contextWindow: peer().contextSize });
    expect(run.exchanges.filter((e) => e.status !== 200)).toEqual([]);
  }, 120_000);
});
