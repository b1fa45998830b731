// streamObject and createObject against a real local server: the request sent, partial values as the JSON streams in,
// the final value parsed and validated, and how it fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, EdgeChatError, UserAbortError, ValidationError } from "../../src/index.ts";
import type { StandardSchema } from "../../src/schema/standard.ts";
import { createObject, ObjectValidationError, responseFormat, streamObject } from "../../src/structured/index.ts";
import { chunk, completion, gate, json, MODEL, sse, startSSE, startUpstream, type Upstream } from "../helpers/upstream.ts";
import { isPartialOf, Order, order, orderText, pieces, streamed, whole } from "./helpers.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 0 });
const messages = [{ role: "user" as const, content: "Lunch for two, as JSON" }];

const ORDER_SCHEMA = {
  type: "object",
  properties: {
    title: { type: "string" },
    items: { type: "array", items: { type: "object", properties: { name: { type: "string" }, price: { type: "number" } }, required: ["name", "price"] } },
    paid: { type: "boolean" },
  },
  required: ["title", "items", "paid"],
};

describe("responseFormat", () => {
  it("is the schema's JSON Schema, named; description and strict only when given", () => {
    expect(responseFormat(Order)).toEqual({ type: "json_schema", json_schema: { name: "response", schema: ORDER_SCHEMA } });
    expect(responseFormat(Order, { name: "order-v2", description: "An order", strict: true })).toEqual({
      type: "json_schema",
      json_schema: { name: "order-v2", description: "An order", schema: ORDER_SCHEMA, strict: true },
    });
  });

  it("refuses a name OpenAI would refuse", () => {
    expect(() => responseFormat(Order, { name: "an order" })).toThrow(TypeError);
    expect(() => responseFormat(Order, { name: "x".repeat(65) })).toThrow(/1–64 letters/);
    expect(() => responseFormat(Order, { name: "" })).toThrow(TypeError);
  });
});

describe("streamObject", () => {
  it('sends json_schema exactly (mode "json_schema"), nothing else added', async () => {
    upstream.handle(streamed(orderText));
    const stream = streamObject(client(), { model: MODEL, messages, temperature: 0, schema: Order, mode: "json_schema", name: "order" });
    await stream.value;
    expect(upstream.requests[0]!.body).toEqual({
      model: MODEL,
      messages,
      temperature: 0,
      stream: true,
      response_format: { type: "json_schema", json_schema: { name: "order", schema: ORDER_SCHEMA } },
    });
  });

  it("yields the value so far as the JSON streams in tiny deltas: each could become the final, the last equals it", async () => {
    upstream.handle(streamed(orderText, 2));
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    const seen: unknown[] = [];
    const roots = new Set<unknown>();
    for await (const partial of stream) {
      seen.push(structuredClone(partial));
      roots.add(partial);
    }
    const value = await stream.value;
    expect(value).toEqual(order);
    expect(seen.length).toBeGreaterThan(20);
    for (const partial of seen) expect(isPartialOf(partial, order), JSON.stringify(partial)).toBe(true);
    expect(seen.at(-1)).toEqual(value);
    // Live: one object, completed in place (copy what you keep).
    expect(roots.size).toBe(1);
    expect(stream.text).toBe(orderText);
    const completion = await stream.completion;
    expect(completion.choices[0]?.message.content).toBe(orderText);
    expect(completion.choices[0]?.finish_reason).toBe("stop");
  });

  it("a value the schema rejects: an ObjectValidationError (a ValidationError) naming the path, with the reply's text", async () => {
    const wrong = JSON.stringify({ ...order, items: [order.items[0], order.items[1], { name: "tea", price: "2" }] });
    upstream.handle(streamed(wrong));
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    const loop = (async () => {
      for await (const _ of stream);
    })();
    await expect(loop).rejects.toThrow(ValidationError);
    const error = (await stream.value.catch((e: unknown) => e)) as ObjectValidationError;
    expect(error).toBeInstanceOf(ObjectValidationError);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.name).toBe("ObjectValidationError");
    expect(error.path).toBe("items[2].price");
    expect(error.message).toMatch(/^Invalid reply value: items\[2\]\.price: Invalid type/);
    expect(error.text).toBe(wrong);
    expect(stream.text).toBe(wrong);
    // The completion itself arrived whole.
    expect((await stream.completion).choices[0]?.message.content).toBe(wrong);
  });

  it("a reply that is not JSON: a clear error once it has ended, its whole text kept", async () => {
    const prose = "Sure! Here is a lunch for two: leek soup and bread.";
    upstream.handle(streamed(prose));
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    const partials: unknown[] = [];
    await expect(
      (async () => {
        for await (const partial of stream) partials.push(partial);
      })(),
    ).rejects.toThrow(/^Invalid JSON: Unexpected "S" at 0/);
    expect(partials).toEqual([]);
    const error = (await stream.value.catch((e: unknown) => e)) as ObjectValidationError;
    expect(error).toBeInstanceOf(ObjectValidationError);
    expect(error.text).toBe(prose);
  });

  it("a reply cut off at max_tokens: JSON that ended early", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      for (const p of pieces(orderText.slice(0, 40))) res.write(sse(chunk({ content: p })));
      res.write(sse(chunk({}, { finish_reason: "length" })));
      res.end(sse("[DONE]"));
    });
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    await expect(stream.value).rejects.toThrow(/^Invalid JSON: .*JSON ended early at 40/);
    expect((await stream.completion).choices[0]?.finish_reason).toBe("length");
  });

  it("a reply in a ```json fence, or with a special token leaked after it (DeepInfra's \"</s>\"): the value", async () => {
    for (const text of ["```json\n" + orderText + "\n```", `${orderText}</s>`, "```json\n" + orderText + "\n```<|eot_id|>"]) {
      upstream.handle(streamed(text));
      const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
      let last: unknown;
      for await (const partial of stream) last = structuredClone(partial);
      expect(await stream.value).toEqual(order);
      expect(last).toEqual(order);
    }
  });

  it("abort() mid-stream: the loop and value end with a UserAbortError, the request is closed", async () => {
    const more = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: '{"title": "Lun' })));
      await more.opened;
      res.end();
    });
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const partial of stream) {
          seen.push(structuredClone(partial));
          stream.abort();
        }
      })(),
    ).rejects.toThrow(UserAbortError);
    await expect(stream.value).rejects.toThrow(UserAbortError);
    await expect(stream.completion).rejects.toThrow(UserAbortError);
    await upstream.requests[0]!.closed;
    more.open();
    expect(seen).toEqual([{ title: "Lun" }]);
    expect(stream.text).toBe('{"title": "Lun');
  });

  it("break out of the loop cancels the request, as a ChatStream's does; value rejects with a UserAbortError", async () => {
    const more = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: '{"title": "Lun' })));
      await more.opened;
      res.end();
    });
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    for await (const _ of stream) break;
    await upstream.requests[0]!.closed;
    more.open();
    await expect(stream.value).rejects.toThrow(UserAbortError);
  });

  it("value without a loop reads the stream; read once: a second iteration throws", async () => {
    upstream.handle(streamed(orderText));
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    expect(await stream.value).toEqual(order);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(EdgeChatError);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/already been iterated/);
  });

  it("a loop begun in the same tick as value gets every partial", async () => {
    upstream.handle(streamed(orderText, 40));
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order });
    const value = stream.value;
    let count = 0;
    for await (const _ of stream) count++;
    expect(count).toBe(Math.ceil(orderText.length / 40));
    expect(await value).toEqual(order);
  });

  it("an error from the server before any text ends the loop and value with the same typed error", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.end(sse({ error: { message: "model overloaded", code: 503 } }));
    });
    const stream = streamObject(client(), { model: MODEL, messages, schema: Order, mode: "json_schema" });
    const error = await stream.value.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "InternalServerError", status: 503 });
    await expect(stream.completion).rejects.toBe(error);
  });
});

/** A Standard Schema written by hand, as another library would: its own validation and its own JSON Schema. */
const Point: StandardSchema<unknown, { x: number; y: number }> = {
  "~standard": {
    version: 1,
    vendor: "handmade",
    validate(value) {
      const o = value as { x?: unknown; y?: unknown } | null;
      if (typeof o?.x !== "number") return { issues: [{ message: "x must be a number", path: ["x"] }] };
      if (typeof o.y !== "number") return { issues: [{ message: "y must be a number", path: [{ key: "y" }] }] };
      return { value: { x: o.x, y: o.y } };
    },
    jsonSchema: { input: ({ target }) => ({ type: "object", properties: { x: { type: "number" }, y: { type: "number" } }, required: ["x", "y"], description: target }) },
  },
};

describe("a Standard Schema that is not valibot's", () => {
  it("sends its own JSON Schema and gives its validated output", async () => {
    upstream.handle(streamed('{"x": 3, "y": -1.5, "z": 0}'));
    const stream = streamObject(client(), { model: MODEL, messages, schema: Point, mode: "json_schema" });
    expect(await stream.value).toEqual({ x: 3, y: -1.5 });
    expect(upstream.requests[0]!.body.response_format.json_schema.schema).toEqual({
      type: "object",
      properties: { x: { type: "number" }, y: { type: "number" } },
      required: ["x", "y"],
      description: "draft-07",
    });
  });

  it("its issues name the path", async () => {
    upstream.handle(whole('{"x": 3, "y": "up"}'));
    const error = await createObject(client(), { model: MODEL, messages, schema: Point }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectValidationError);
    expect(error).toMatchObject({ path: "y", message: "Invalid reply value: y: y must be a number", text: '{"x": 3, "y": "up"}' });
  });

  it("without a JSON Schema: a TypeError before anything is sent", () => {
    const bare: StandardSchema = { "~standard": { version: 1, vendor: "bare", validate: (value) => ({ value }) } };
    upstream.handle(streamed("{}"));
    expect(() => streamObject(client(), { model: MODEL, messages, schema: bare })).toThrow(/No JSON Schema for a "bare" schema/);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("createObject", () => {
  it("sends a non-streaming request with the response_format and gives the value and the completion", async () => {
    upstream.handle(whole("```json\n" + orderText + "\n```"));
    const { value, completion } = await createObject(client(), { model: MODEL, messages, schema: Order, mode: "json_schema" });
    expect(value).toEqual(order);
    expect(completion.usage?.prompt_tokens).toBe(12);
    const body = upstream.requests[0]!.body;
    expect(body).toEqual({ model: MODEL, messages, response_format: { type: "json_schema", json_schema: { name: "response", schema: ORDER_SCHEMA } } });
  });

  it("a value the schema rejects: an ObjectValidationError with the path and the text", async () => {
    const wrong = JSON.stringify({ ...order, paid: "no" });
    upstream.handle(whole(wrong));
    const error = await createObject(client(), { model: MODEL, messages, schema: Order }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectValidationError);
    expect(error).toMatchObject({ path: "paid", text: wrong });
  });

  it("a reply with no content (null): Invalid JSON", async () => {
    const empty = completion("");
    empty.choices[0]!.message.content = null as unknown as string;
    upstream.handle(json(200, empty));
    await expect(createObject(client(), { model: MODEL, messages, schema: Order })).rejects.toThrow(/^Invalid JSON: JSON ended early at 0/);
  });

  it("the signal aborts it", async () => {
    upstream.handle(async () => {});
    const controller = new AbortController();
    const pending = createObject(client(), { model: MODEL, messages, schema: Order }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(pending).rejects.toThrow(UserAbortError);
  });
});
