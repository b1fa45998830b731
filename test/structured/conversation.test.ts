// sendObject: a Conversation's reply as a JSON value of a schema — streamed partials, the JSON text stored, the value
// validated; "auto" switching to json_object within the same reply.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation, createClient, createMemoryStore, UserAbortError } from "../../src/index.ts";
import { ObjectValidationError, responseFormat, sendObject, valueOf } from "../../src/structured/index.ts";
import { chunk, gate, MODEL, sse, startSSE, startUpstream, type Upstream } from "../helpers/upstream.ts";
import { isPartialOf, onlyJSONObject, Order, order, orderText, streamed } from "./helpers.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const conversation = (system?: string) =>
  new Conversation({ client: createClient({ baseURL: upstream.baseURL, maxRetries: 0 }), model: MODEL, ...(system !== undefined && { system }) });
const INSTRUCTION = `Reply with only a JSON value that matches this JSON Schema, with no other text:\n${JSON.stringify(responseFormat(Order).json_schema.schema)}`;

describe("sendObject", () => {
  it("streams partial values, stores the JSON text as the reply, and gives the validated value", async () => {
    upstream.handle(streamed(orderText, 2));
    const conv = conversation("Be brief.");
    const sent = sendObject(conv, "Lunch for two", { schema: Order, name: "order", params: { temperature: 0 } });
    const partials: unknown[] = [];
    for await (const partial of sent) partials.push(structuredClone(partial));
    const value = await sent.value;
    expect(value).toEqual(order);
    expect(partials.length).toBeGreaterThan(20);
    for (const partial of partials) expect(isPartialOf(partial, order), JSON.stringify(partial)).toBe(true);
    expect(partials.at(-1)).toEqual(order);

    const message = await sent.reply.done;
    expect(message).toMatchObject({ role: "assistant", content: orderText, status: "complete" });
    expect(conv.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(await valueOf(message, Order)).toEqual(order);

    const body = upstream.requests[0]!.body;
    expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "order", schema: responseFormat(Order).json_schema.schema } });
    expect(body.temperature).toBe(0);
    // json_schema needs no instruction: the system message is the conversation's own.
    expect(body.messages[0]).toEqual({ role: "system", content: "Be brief." });
  });

  it('"auto": a server that refuses json_schema gets json_object and the schema as system text, within the same reply', async () => {
    upstream.handle(onlyJSONObject(streamed(orderText)));
    const conv = conversation("Be brief.");
    const sent = sendObject(conv, "Lunch for two", { schema: Order, instructions: "Prices in euros." });
    const partials: unknown[] = [];
    for await (const partial of sent) partials.push(structuredClone(partial));
    expect(await sent.value).toEqual(order);
    expect(partials.at(-1)).toEqual(order);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_object"]);
    // The conversation's system message, then the instructions (the caller's, then the schema), as one system message.
    expect(upstream.requests[0]!.body.messages[0]).toEqual({ role: "system", content: "Be brief.\n\nPrices in euros." });
    expect(upstream.requests[1]!.body.messages[0]).toEqual({ role: "system", content: `Be brief.\n\nPrices in euros.\n\n${INSTRUCTION}` });
    // One reply, stored complete; the instructions were never stored.
    expect(conv.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Lunch for two"],
      ["assistant", orderText],
    ]);
    expect((await sent.reply.done).status).toBe("complete");
  });

  it('"json_object": the schema sent as instructions, never stored', async () => {
    upstream.handle(streamed(orderText));
    const store = createMemoryStore();
    const conv = await Conversation.create(store, { client: createClient({ baseURL: upstream.baseURL }), model: MODEL });
    const sent = sendObject(conv, "Lunch for two", { schema: Order, mode: "json_object" });
    expect(await sent.value).toEqual(order);
    expect(upstream.requests[0]!.body).toMatchObject({
      response_format: { type: "json_object" },
      messages: [
        { role: "system", content: INSTRUCTION },
        { role: "user", content: "Lunch for two" },
      ],
    });
    await conv.flush();
    const stored = await store.loadMessages(conv.id);
    expect(stored.messages.map((m) => m.content)).toEqual(["Lunch for two", orderText]);
  });

  it("a value the schema rejects: value rejects with the path; the reply itself completed and is kept", async () => {
    const wrong = JSON.stringify({ ...order, title: 7 });
    upstream.handle(streamed(wrong));
    const conv = conversation();
    const sent = sendObject(conv, "Lunch for two", { schema: Order });
    const error = await sent.value.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectValidationError);
    expect(error).toMatchObject({ path: "title", text: wrong });
    expect((await sent.reply.done).content).toBe(wrong);
    await expect(valueOf(conv.messages[1] as { content: string }, Order)).rejects.toThrow(/^Invalid reply value: title:/);
  });

  it("break stops the reading only (a Reply's rule); reply.abort() stops the reply, and value rejects", async () => {
    upstream.handle(streamed(orderText));
    const conv = conversation();
    const sent = sendObject(conv, "Lunch for two", { schema: Order });
    for await (const _ of sent) break;
    expect(await sent.value).toEqual(order);
    expect(() => sent[Symbol.asyncIterator]()).toThrow(/already been iterated/);

    const more = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: '{"title": "Lun' })));
      await more.opened;
      res.end();
    });
    const second = sendObject(conv, "And dinner", { schema: Order });
    const seen: unknown[] = [];
    const loop = (async () => {
      for await (const partial of second) {
        seen.push(structuredClone(partial));
        second.reply.abort();
      }
    })();
    await expect(loop).rejects.toThrow(UserAbortError);
    await expect(second.value).rejects.toThrow(UserAbortError);
    more.open();
    expect(seen).toEqual([{ title: "Lun" }]);
    expect(conv.messages.at(-1)).toMatchObject({ status: "interrupted", content: '{"title": "Lun' });
  });
});
