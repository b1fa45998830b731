// Type tests for edgechat/structured (vitest's `.test-d.ts` convention): checked by `tsc -p test/tsconfig.json`, never
// run. The schema's output type is what every value is; partial values are deep partials of it.
import * as v from "valibot";
import { describe, expectTypeOf, it } from "vitest";
import type { ChatCompletion, Client, Conversation, Reply, ResponseFormat } from "../../src/index.ts";
import {
  createObject,
  type DeepPartial,
  type ObjectReply,
  type ObjectStream,
  ObjectValidationError,
  responseFormat,
  sendObject,
  streamObject,
  valueOf,
} from "../../src/structured/index.ts";
import { ValidationError } from "../../src/index.ts";

declare const client: Client;
declare const conversation: Conversation;
const model = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const messages = [{ role: "user" as const, content: "Lunch" }];
const Order = v.object({ title: v.string(), items: v.array(v.object({ name: v.string(), price: v.number() })), note: v.optional(v.string()) });
type Order = v.InferOutput<typeof Order>;

describe("edgechat/structured", () => {
  it("streamObject: an ObjectStream of the schema's output, partials deep-partial", async () => {
    const stream = streamObject(client, { model, messages, schema: Order, temperature: 0 });
    expectTypeOf(stream).toEqualTypeOf<ObjectStream<Order>>();
    expectTypeOf(stream.value).toEqualTypeOf<Promise<Order>>();
    expectTypeOf(stream.completion).toEqualTypeOf<Promise<ChatCompletion>>();
    expectTypeOf(stream.text).toEqualTypeOf<string>();
    for await (const partial of stream) {
      expectTypeOf(partial).toEqualTypeOf<DeepPartial<Order>>();
      expectTypeOf(partial.items).toEqualTypeOf<{ name?: string; price?: number }[] | undefined>();
    }
    // @ts-expect-error -- the format is the schema's: no response_format of your own
    void streamObject(client, { model, messages, schema: Order, response_format: { type: "text" } });
    // @ts-expect-error -- no such mode
    void streamObject(client, { model, messages, schema: Order, mode: "tools" });
  });

  it("createObject: the value and the completion", () => {
    expectTypeOf(createObject(client, { model, messages, schema: Order, mode: "json_object" })).toEqualTypeOf<Promise<{ value: Order; completion: ChatCompletion }>>();
  });

  it("sendObject: the reply, and its value", () => {
    const sent = sendObject(conversation, "Lunch", { schema: Order, params: { temperature: 0 }, instructions: "In euros." });
    expectTypeOf(sent).toEqualTypeOf<ObjectReply<Order>>();
    expectTypeOf(sent.reply).toEqualTypeOf<Reply>();
    expectTypeOf(sent.value).toEqualTypeOf<Promise<Order>>();
    // @ts-expect-error -- sendObject owns the fallback
    void sendObject(conversation, "Lunch", { schema: Order, fallback: {} });
    expectTypeOf(valueOf({ content: "{}" }, Order)).toEqualTypeOf<Promise<Order>>();
  });

  it("responseFormat is a ResponseFormat; ObjectValidationError is a ValidationError with the text", () => {
    expectTypeOf(responseFormat(Order)).toMatchTypeOf<ResponseFormat>();
    expectTypeOf<ObjectValidationError>().toMatchTypeOf<ValidationError>();
    expectTypeOf<ObjectValidationError["text"]>().toEqualTypeOf<string>();
  });
});
