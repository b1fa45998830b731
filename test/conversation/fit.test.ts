import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContextBudgetError, ImageLimitError } from "../../src/conversation/errors.ts";
import { type FitOptions, fitToContext, OMITTED_IMAGE_TEXT } from "../../src/conversation/fit.ts";
import { LLAMA_32_VISION_IMAGE } from "../../src/models/presets.ts";
import { tileCount } from "../../src/images/tiles.ts";

// A deterministic counter for the properties: one token per 4 characters, rounded up.
const count = (text: string) => Math.ceil(text.length / 4);
const PER_MESSAGE = 5;
const PER_REQUEST = 26;

interface M {
  role: "system" | "user" | "assistant" | "tool";
  content: string | { type: string; text?: string; width?: number; height?: number }[] | null;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  pinned?: boolean;
  n: number;
}

/** The reference: what a list of messages costs, counted independently of fit.ts (imagePolicy "all"). */
function reference(messages: readonly M[]): number {
  let total = PER_REQUEST;
  for (const m of messages) {
    total += PER_MESSAGE;
    if (typeof m.content === "string") total += count(m.content);
    else if (m.content) {
      for (const part of m.content) {
        if (part.type === "text") total += count(part.text ?? "");
        else total += tileCount(part.width ? { width: part.width, height: part.height! } : undefined, LLAMA_32_VISION_IMAGE) * 1601;
      }
    }
    if (m.tool_calls?.length) total += count(JSON.stringify(m.tool_calls));
  }
  return total;
}

/** Turns as the invariants define them: a user message and everything up to the next one. */
function turnsOf(messages: readonly M[]): M[][] {
  const turns: M[][] = [];
  for (const m of messages) {
    if (m.role === "system") continue;
    if (m.role === "user" || turns.length === 0) turns.push([m]);
    else turns[turns.length - 1]!.push(m);
  }
  return turns;
}

const text = fc.string({ maxLength: 400 });
const image = fc.record({ type: fc.constant("image"), width: fc.integer({ min: 1, max: 4000 }), height: fc.integer({ min: 1, max: 4000 }) });
const userContent = fc.oneof(text, fc.array(fc.oneof(fc.record({ type: fc.constant("text"), text }), image), { minLength: 1, maxLength: 3 }));

/** A random conversation: optional system, maybe an orphan reply first, then turns with replies, tool calls and results. */
const conversation = fc
  .record({
    system: fc.option(text, { nil: undefined }),
    orphan: fc.boolean(),
    turns: fc.array(
      fc.record({
        user: userContent,
        replies: fc.array(fc.oneof(text.map((t) => ({ kind: "text" as const, t })), fc.integer({ min: 1, max: 3 }).map((k) => ({ kind: "tools" as const, k }))), { maxLength: 2 }),
        pinned: fc.boolean(),
      }),
      { minLength: 1, maxLength: 25 },
    ),
  })
  .map(({ system, orphan, turns }) => {
    const out: M[] = [];
    let n = 0;
    if (system !== undefined) out.push({ role: "system", content: system, n: n++ });
    if (orphan) out.push({ role: "assistant", content: "Hello! How can I help?", n: n++ });
    for (const turn of turns) {
      out.push({ role: "user", content: turn.user as M["content"], n: n++, ...(turn.pinned && n % 3 === 0 ? { pinned: true } : {}) });
      for (const reply of turn.replies) {
        if (reply.kind === "text") out.push({ role: "assistant", content: reply.t, n: n++ });
        else {
          const calls = Array.from({ length: reply.k }, (_, i) => ({ id: `c${n}_${i}`, type: "function" as const, function: { name: "lookup", arguments: `{"q":${i}}` } }));
          out.push({ role: "assistant", content: null, tool_calls: calls, n: n++ });
          for (const call of calls) out.push({ role: "tool", content: `result ${call.id}`, tool_call_id: call.id, n: n++ });
        }
      }
    }
    return out;
  });

const options = fc.record({
  contextWindow: fc.integer({ min: 2000, max: 40000 }),
  maxOutputTokens: fc.integer({ min: 0, max: 1500 }),
});

const base = (o: { contextWindow: number; maxOutputTokens: number }): FitOptions<M> => ({ ...o, countTokens: count, imagePolicy: "all", safetyMargin: 0 });

describe("fitToContext invariants (property-based)", () => {
  it("never exceeds the budget, keeps what must be kept, never splits a turn, and is maximal", () => {
    fc.assert(
      fc.property(conversation, options, (messages, o) => {
        const turns = turnsOf(messages);
        const system = messages.filter((m) => m.role === "system");
        const newest = turns.at(-1)!;
        const hasUser = newest[0]!.role === "user";
        const pinnedTurns = turns.slice(0, -1).filter((t) => t[0]!.role === "user" && t.some((m) => m.pinned));
        const mandatory = reference([...system, ...pinnedTurns.flat(), ...(hasUser ? newest : [])]);
        const budget = o.contextWindow - o.maxOutputTokens;

        let result;
        try {
          result = fitToContext(messages, base(o));
        } catch (error) {
          expect(error).toBeInstanceOf(ContextBudgetError);
          expect(mandatory).toBeGreaterThan(budget);
          expect((error as ContextBudgetError).needed).toBe(mandatory);
          return;
        }
        expect(mandatory).toBeLessThanOrEqual(budget);
        const kept = result.messages;
        // Exact accounting, and within budget.
        expect(result.tokens).toBe(reference(kept));
        expect(result.tokens).toBeLessThanOrEqual(budget);
        expect(result.budget).toBe(budget);
        // Order preserved; kept and dropped partition the input.
        expect([...kept, ...result.dropped].map((m) => m.n).sort((a, b) => a - b)).toEqual(messages.map((m) => m.n));
        for (const list of [kept, result.dropped]) expect(list.map((m) => m.n)).toEqual([...list.map((m) => m.n)].sort((a, b) => a - b));
        // System messages and the newest turn kept.
        for (const m of system) expect(kept).toContain(m);
        if (hasUser) for (const m of newest) expect(kept).toContain(m);
        // Never starts (after system) with an assistant or tool message.
        const firstOther = kept.find((m) => m.role !== "system");
        if (firstOther) expect(firstOther.role).toBe("user");
        // Whole turns only; pinned turns always kept.
        for (const turn of turns) {
          const inKept = turn.filter((m) => kept.includes(m)).length;
          expect([0, turn.length]).toContain(inKept);
          if (turn[0]!.role === "user" && turn.some((m) => m.pinned)) expect(inKept).toBe(turn.length);
        }
        // Maximal: the newest dropped user turn, added back, would overflow.
        const droppedTurns = turns.filter((t) => t[0]!.role === "user" && !kept.includes(t[0]!));
        const nextOldest = droppedTurns.at(-1);
        if (nextOldest) expect(reference([...kept, ...nextOldest])).toBeGreaterThan(budget);
        // Dropped turns are the oldest: every dropped user turn is older than every kept unpinned one.
        const keptUnpinned = turns.filter((t) => t[0]!.role === "user" && kept.includes(t[0]!) && !t.some((m) => m.pinned));
        if (nextOldest && keptUnpinned.length) expect(nextOldest[0]!.n).toBeLessThan(keptUnpinned[0]![0]!.n);
        expect(result.droppedTurns).toBe(droppedTurns.length + (turns[0]![0]!.role !== "user" ? 1 : 0));
      }),
      { numRuns: 400, seed: 20261125 },
    );
  });

  it("under imagePolicy 'latest', sends only the newest image and counts exactly what it sends", () => {
    fc.assert(
      fc.property(conversation, options, (messages, o) => {
        let result;
        try {
          result = fitToContext(messages, { ...base(o), imagePolicy: "latest" });
        } catch (error) {
          expect(error).toBeInstanceOf(ContextBudgetError);
          return;
        }
        const images = result.messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === "image") : []));
        expect(images.length).toBeLessThanOrEqual(1);
        // Counted ≥ what is sent (a pinned image may be counted whole and sent as a placeholder), and within budget.
        expect(result.tokens).toBeGreaterThanOrEqual(reference(result.messages));
        expect(result.tokens).toBeLessThanOrEqual(o.contextWindow - o.maxOutputTokens);
        // The image sent, if any, is the newest among the kept messages.
        const all = result.messages.flatMap((m) => (Array.isArray(m.content) ? m.content.map((p) => ({ m, p })) : []));
        const withPlaceholders = all.filter(({ p }) => p.type === "image" || p.text === OMITTED_IMAGE_TEXT);
        if (images.length === 1) expect(withPlaceholders.at(-1)!.p.type).toBe("image");
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

const user = (content: M["content"], extra: Partial<M> = {}): M => ({ role: "user", content, n: 0, ...extra });
const assistant = (content: string): M => ({ role: "assistant", content, n: 0 });

describe("fitToContext", () => {
  it("replaces older images with a short text under 'latest', and leaves the input untouched", () => {
    const first = user([{ type: "text", text: "a cat" }, { type: "image", width: 560, height: 560 }]);
    const second = user([{ type: "image", width: 800, height: 600 }]);
    const messages = [first, assistant("a cat indeed"), second];
    const result = fitToContext(messages, { contextWindow: 32768, maxOutputTokens: 1000, countTokens: count, imagePolicy: "latest" });
    expect(result.messages[0]!.content).toEqual([{ type: "text", text: "a cat" }, { type: "text", text: OMITTED_IMAGE_TEXT }]);
    expect(result.messages[2]).toBe(second);
    expect(first.content).toEqual([{ type: "text", text: "a cat" }, { type: "image", width: 560, height: 560 }]);
    // One 1-tile image is cheaper than 4 tiles for 800×600 (a 2×2 canvas): counted by its real size.
    expect(result.estimate.image).toBe(4 * 1601);
  });

  it("throws ImageLimitError under 'error' when more images would be sent than allowed", () => {
    const messages = [user([{ type: "image" }]), assistant("ok"), user([{ type: "image" }])];
    expect(() => fitToContext(messages, { contextWindow: 32768, maxOutputTokens: 0, countTokens: count, imagePolicy: "error" })).toThrow(ImageLimitError);
    expect(fitToContext(messages, { contextWindow: 32768, maxOutputTokens: 0, countTokens: count, imagePolicy: "all" }).messages).toHaveLength(3);
  });

  it("says how many tokens were needed and available when what must be kept does not fit", () => {
    const messages = [{ role: "system" as const, content: "x".repeat(4000), n: 0 }, user("y".repeat(4000))];
    const error = (() => {
      try {
        fitToContext(messages, { contextWindow: 2000, maxOutputTokens: 500, countTokens: count, safetyMargin: 0 });
      } catch (e) {
        return e as ContextBudgetError;
      }
    })();
    expect(error).toBeInstanceOf(ContextBudgetError);
    expect(error?.needed).toBe(PER_REQUEST + 2 * PER_MESSAGE + 2000);
    expect(error?.available).toBe(1500);
  });

  it("keeps a pinned turn however old, and drops the unpinned ones before it", () => {
    const pinned = user("remember: my name is Ada", { pinned: true });
    const messages = [pinned, assistant("noted"), ...Array.from({ length: 40 }, (_, i) => [user(`question ${i} ${"z".repeat(300)}`), assistant("answer ".repeat(60))]).flat()];
    const result = fitToContext(messages, { contextWindow: 3000, maxOutputTokens: 500, countTokens: count, safetyMargin: 0 });
    expect(result.messages[0]).toBe(pinned);
    expect(result.messages[1]).toBe(messages[1]);
    expect(result.droppedTurns).toBeGreaterThan(0);
    expect(result.messages.at(-2)).toBe(messages.at(-2));
  });

  it("places a summary after the system message only when turns were dropped", () => {
    const system = { role: "system" as const, content: "Be brief.", n: 0 };
    const summary = { role: "system" as const, content: "Earlier: the user asked about cats.", n: -1 };
    const long = [system, ...Array.from({ length: 30 }, (_, i) => [user(`q${i} ${"z".repeat(400)}`), assistant("a".repeat(400))]).flat()];
    const trimmed = fitToContext(long, { contextWindow: 3000, maxOutputTokens: 0, countTokens: count, summary });
    expect(trimmed.summarized).toBe(true);
    expect(trimmed.messages.slice(0, 2)).toEqual([system, summary]);
    const short = fitToContext(long.slice(0, 3), { contextWindow: 3000, maxOutputTokens: 0, countTokens: count, summary });
    expect(short.summarized).toBe(false);
    expect(short.messages).not.toContain(summary);
  });

  it("counts each message once: an incremental fit counts only the new messages", () => {
    let calls = 0;
    const counting = (t: string) => {
      calls++;
      return count(t);
    };
    const history: M[] = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? assistant(`answer ${i}`) : user(`question ${i}`)));
    fitToContext(history, { contextWindow: 131072, maxOutputTokens: 4096, countTokens: counting });
    const first = calls;
    expect(first).toBeGreaterThan(0);
    calls = 0;
    const next = [...history, user("one more question"), assistant("one more answer"), user("and another")];
    const result = fitToContext(next, { contextWindow: 131072, maxOutputTokens: 4096, countTokens: counting });
    expect(calls).toBe(3);
    expect(result.messages.at(-1)!.content).toBe("and another");
  });

  it("drops a leading reply that has no user message before it", () => {
    const messages = [assistant("Hi! I'm a bot."), user("hello")];
    const result = fitToContext(messages, { contextWindow: 32768, maxOutputTokens: 0, countTokens: count });
    expect(result.messages.map((m) => m.content)).toEqual(["hello"]);
    expect(result.droppedTurns).toBe(1);
  });
});
