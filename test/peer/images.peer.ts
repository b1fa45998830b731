// An image sent to a model without vision. llama-server without --mmproj answers, streaming or not:
//   500 {"error":{"code":500,"message":"image input is not supported - hint: if this is unexpected, you may need to provide the mmproj","type":"server_error"}}
// a 500 that no retry can mend, and nothing in it (no x-should-retry, type "server_error") says so but the words.
import { describe, expect, it } from "vitest";
import { Conversation, createMemoryStore, InternalServerError, type RetryInfo } from "../../src/index.ts";
import { makePNG } from "../helpers/images.ts";
import { MODEL, peerClient } from "./peer.ts";

const WORDS = "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj";
const png = makePNG(8, 8);
const dataURL = `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
const messages = [{ role: "user" as const, content: [{ type: "text" as const, text: "What is this?" }, { type: "image_url" as const, image_url: { url: dataURL } }] }];

describe("an image for a model without vision", () => {
  it("is an InternalServerError (500) with the server's words, streamed or not", async () => {
    const client = peerClient({ maxRetries: 0 });
    const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4 }).catch((e: unknown) => e);
    expect(whole).toBeInstanceOf(InternalServerError);
    expect(whole).toMatchObject({ status: 500, type: "server_error", message: `500 Internal server error: ${WORDS}` });

    const stream = client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, stream: true });
    const streamed = await stream.finalChatCompletion().catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(InternalServerError);
    expect(streamed).toMatchObject({ status: 500, message: `500 Internal server error: ${WORDS}` });
  });

  it("ends a Conversation's reply with that error, the message kept with status error", async () => {
    const conversation = await Conversation.create(createMemoryStore(), {
      client: peerClient({ maxRetries: 0 }),
      model: MODEL,
      contextWindow: 2048,
      maxOutputTokens: 8,
    });
    const reply = conversation.send([{ type: "text", text: "What is this?" }, { type: "image", image: png }]);
    await expect(reply.done).rejects.toBeInstanceOf(InternalServerError);
    expect(conversation.messages.at(-1)).toMatchObject({ role: "assistant", status: "error", error: { name: "InternalServerError", message: `500 Internal server error: ${WORDS}` } });
  });

  // Once a bug: this 500 was retried twice (~1.4 s for the same answer). The words name the input as unsupported.
  it("is not retried, since the server says the input is not supported", async () => {
    const retries: RetryInfo[] = [];
    const error = await peerClient({ onRetry: (info) => retries.push(info) })
      .chat.completions.create({ model: MODEL, messages, max_tokens: 4 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(retries).toEqual([]);
  });
});
