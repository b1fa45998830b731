// Adversarial conversation documents: wrong types, huge strings, __proto__ keys, deep nesting, random JSON.
// Import must either succeed or throw a ValidationError — never another error, never a change to existing
// data, never a polluted prototype.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Conversation } from "../../src/conversation/conversation.ts";
import { createClient, ValidationError } from "../../src/index.ts";
import { createMemoryStore } from "../../src/store/memory.ts";

const client = createClient({ baseURL: "http://127.0.0.1:9/v1/openai" });

const valid = () => ({
  format: "edgechat.conversation",
  version: 1,
  id: "conv-1",
  model: "meta-llama/Llama-3.2-90B-Vision-Instruct",
  system: "be brief",
  createdAt: 1764028800000,
  calibration: { text: 1.02, image: 0.9, samples: 2 },
  messages: [
    { id: "u1", role: "user", createdAt: 1, content: [{ type: "text", text: "hi" }, { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png", width: 1, height: 1 }] },
    { id: "a1", role: "assistant", createdAt: 2, content: "hello", status: "complete", usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, estimated_cost: 0.1 } },
  ],
});

/** Walk to a random place in the document and put something hostile there. */
const hostile = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(Number.NaN),
  fc.constant(Infinity),
  fc.constant(-1),
  fc.constant("x".repeat(200_000)),
  fc.constant(JSON.parse('{"__proto__": {"polluted": "yes"}}')),
  fc.constant(JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}')),
  fc.constant(Array.from({ length: 2 }, () => JSON.parse('{"__proto__": {"polluted": "yes"}, "id": "x"}'))),
  fc.constant(JSON.parse(`${"[".repeat(5000)}"deep"${"]".repeat(5000)}`)),
  fc.constant(JSON.parse(`${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`)),
  fc.jsonValue({ maxDepth: 4 }),
  fc.anything({ maxDepth: 3 }),
);

function mutate(doc: unknown, path: number[], value: unknown): unknown {
  if (typeof doc !== "object" || doc === null || path.length === 0) return value;
  const keys = Object.keys(doc);
  if (keys.length === 0) return value;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(doc) ? ([...doc] as unknown as Record<string, unknown>) : { ...doc };
  copy[key] = mutate((doc as Record<string, unknown>)[key], path.slice(1), value);
  return copy;
}

const documents = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), hostile).map(([path, value]) => mutate(valid(), path, value)) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 5 }) },
);

describe("conversation JSON import fuzzing", () => {
  it("Conversation.fromJSON builds a valid conversation or rejects with a ValidationError, nothing else", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(documents, async (doc) => {
        try {
          const conversation = await Conversation.fromJSON(doc, { client, contextWindow: 8192 });
          accepted++;
          // What was accepted is well-formed: it serialises and reads back identically.
          expect((await Conversation.fromJSON(JSON.parse(JSON.stringify(conversation)), { client, contextWindow: 8192 })).messages).toEqual(conversation.messages);
        } catch (error) {
          expect(error, String(error).slice(0, 300)).toBeInstanceOf(ValidationError);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty("polluted");
      }),
      { numRuns: 1500, seed: 1125 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it("a store import that fails changes nothing already stored", async () => {
    const store = createMemoryStore();
    const existing = await store.import(valid());
    const snapshot = JSON.stringify({ list: await store.list(), messages: await store.loadMessages(existing.id), doc: await store.export(existing.id) });
    await fc.assert(
      fc.asyncProperty(documents, async (doc) => {
        try {
          const meta = await store.import(doc);
          await store.delete(meta.id);
        } catch (error) {
          if (!(error instanceof ValidationError)) expect(String(error)).toMatch(/already exists/);
        }
        expect(JSON.stringify({ list: await store.list(), messages: await store.loadMessages(existing.id), doc: await store.export(existing.id) })).toBe(snapshot);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 500, seed: 77 },
    );
  });
});
