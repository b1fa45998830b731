// The modes: json_object with the schema in the system message, and "auto" against a server that refuses json_schema
// (as one that takes only json_object does): one retry, remembered per client; never for a context overflow.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestError, ContextLengthError, createClient, NotFoundError } from "../../src/index.ts";
import { createObject, responseFormat, streamObject } from "../../src/structured/index.ts";
import { json, MODEL, startUpstream, type Upstream } from "../helpers/upstream.ts";
import { Order, order, orderText, onlyJSONObject, streamed, whole } from "./helpers.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 0 });
const user = { role: "user" as const, content: "Lunch for two" };
const schemaText = JSON.stringify(responseFormat(Order).json_schema.schema);
const INSTRUCTION = `Reply with only a JSON value that matches this JSON Schema, with no other text:\n${schemaText}`;

describe('mode "json_object"', () => {
  it("sends json_object, the schema in a new first system message when there is none", async () => {
    upstream.handle(streamed(orderText));
    const stream = streamObject(client(), { model: MODEL, messages: [user], schema: Order, mode: "json_object" });
    expect(await stream.value).toEqual(order);
    expect(upstream.requests[0]!.body).toEqual({
      model: MODEL,
      messages: [{ role: "system", content: INSTRUCTION }, user],
      stream: true,
      response_format: { type: "json_object" },
    });
  });

  it("joins the schema to the first system message (Llama's template wants one, first); parts get a text part", async () => {
    upstream.handle(whole(orderText));
    await createObject(client(), { model: MODEL, messages: [{ role: "system", content: "Be brief." }, user], schema: Order, mode: "json_object" });
    expect(upstream.requests[0]!.body.messages).toEqual([{ role: "system", content: `Be brief.\n\n${INSTRUCTION}` }, user]);

    upstream.handle(whole(orderText));
    await createObject(client(), { model: MODEL, messages: [{ role: "system", content: [{ type: "text", text: "Be brief." }] }, user], schema: Order, mode: "json_object" });
    expect(upstream.requests[0]!.body.messages[0]).toEqual({
      role: "system",
      content: [
        { type: "text", text: "Be brief." },
        { type: "text", text: `\n\n${INSTRUCTION}` },
      ],
    });
  });
});

describe('mode "auto"', () => {
  it("a server that answers 400 to json_schema: one retry with json_object and the schema in the system message; the next call skips json_schema", async () => {
    upstream.handle(onlyJSONObject(streamed(orderText)));
    const c = client();
    const messages = [{ role: "system" as const, content: "Be brief." }, user];
    const stream = streamObject(c, { model: MODEL, messages, schema: Order });
    const partials: unknown[] = [];
    for await (const partial of stream) partials.push(structuredClone(partial));
    expect(await stream.value).toEqual(order);
    expect(partials.at(-1)).toEqual(order);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_object"]);
    expect(upstream.requests[1]!.body).toEqual({
      model: MODEL,
      messages: [{ role: "system", content: `Be brief.\n\n${INSTRUCTION}` }, user],
      stream: true,
      response_format: { type: "json_object" },
    });

    // The same client, streamed or not: json_object at once.
    upstream.handle(onlyJSONObject(streamed(orderText)));
    expect(await streamObject(c, { model: MODEL, messages, schema: Order }).value).toEqual(order);
    upstream.handle(onlyJSONObject(whole(orderText)));
    expect((await createObject(c, { model: MODEL, messages, schema: Order })).value).toEqual(order);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_object"]);

    // Remembered per client: another one asks with json_schema first.
    upstream.handle(onlyJSONObject(streamed(orderText)));
    expect(await streamObject(client(), { model: MODEL, messages, schema: Order }).value).toEqual(order);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_object"]);
  });

  it("createObject falls back the same way, and a FastAPI 422 (DeepInfra's validation error) counts as a refusal", async () => {
    const refusal = { status: 422, body: { detail: [{ loc: ["body", "response_format", "type"], msg: "Input should be 'text' or 'json_object'", type: "literal_error" }] } };
    upstream.handle(onlyJSONObject(whole(orderText), refusal));
    const c = client();
    const { value } = await createObject(c, { model: MODEL, messages: [user], schema: Order });
    expect(value).toEqual(order);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_object"]);
    expect(upstream.requests[1]!.body.messages).toEqual([{ role: "system", content: INSTRUCTION }, user]);
    upstream.handle(onlyJSONObject(whole(orderText), refusal));
    await createObject(c, { model: MODEL, messages: [user], schema: Order });
    expect(upstream.requests).toHaveLength(1);
  });

  it("a context overflow said with a 400 is not a refusal: no retry, nothing remembered", async () => {
    const overflow = json(400, {
      object: "error",
      message: "This model's maximum context length is 16000 tokens. However, you requested 17165 tokens (13069 in the messages, 4096 in the completion).",
      type: "BadRequestError",
      code: 400,
    });
    upstream.handle(overflow);
    const c = client();
    const error = await streamObject(c, { model: MODEL, messages: [user], schema: Order }).value.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextLengthError);
    await expect(createObject(c, { model: MODEL, messages: [user], schema: Order })).rejects.toThrow(ContextLengthError);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_schema"]);
    upstream.handle(streamed(orderText));
    await streamObject(c, { model: MODEL, messages: [user], schema: Order }).value;
    expect(upstream.requests[0]!.body.response_format.type).toBe("json_schema");
  });

  it("a 400 to json_object too: that error, and nothing remembered (the refusal was not about json_schema)", async () => {
    upstream.handle(json(400, { error: { message: "temperature must be at most 2" } }));
    const c = client();
    await expect(streamObject(c, { model: MODEL, messages: [user], schema: Order, temperature: 3 }).value).rejects.toThrow(/temperature must be at most 2/);
    await expect(createObject(c, { model: MODEL, messages: [user], schema: Order, temperature: 3 })).rejects.toThrow(BadRequestError);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_object", "json_schema", "json_object"]);
    upstream.handle(streamed(orderText));
    await streamObject(c, { model: MODEL, messages: [user], schema: Order }).value;
    expect(upstream.requests[0]!.body.response_format.type).toBe("json_schema");
  });

  it('mode "json_schema" never falls back', async () => {
    upstream.handle(onlyJSONObject(streamed(orderText)));
    const c = client();
    await expect(streamObject(c, { model: MODEL, messages: [user], schema: Order, mode: "json_schema" }).value).rejects.toThrow(BadRequestError);
    await expect(createObject(c, { model: MODEL, messages: [user], schema: Order, mode: "json_schema" })).rejects.toThrow(BadRequestError);
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests.map((r) => r.body.response_format.type)).toEqual(["json_schema", "json_schema"]);
  });

  it("abort() before the refusal arrives: it ends there, no second request", async () => {
    upstream.handle(async (req, res) => {
      await new Promise((r) => setTimeout(r, 30));
      onlyJSONObject(streamed(orderText))(req, res);
    });
    const stream = streamObject(client(), { model: MODEL, messages: [user], schema: Order });
    const value = stream.value;
    await new Promise((r) => setTimeout(r, 5));
    stream.abort();
    await expect(value).rejects.toThrow(/aborted/);
    await new Promise((r) => setTimeout(r, 60));
    expect(upstream.requests).toHaveLength(1);
  });

  it("a 404 is not a refusal", async () => {
    upstream.handle(json(404, { detail: "Not Found" }));
    await expect(streamObject(client(), { model: MODEL, messages: [user], schema: Order }).value).rejects.toThrow(NotFoundError);
    expect(upstream.requests).toHaveLength(1);
  });
});
