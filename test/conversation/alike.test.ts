// ChatStream and Reply are the two streams a user meets: they behave alike where a user would expect it (one
// iteration, the same error for a second; a final value awaited with or without iterating; a failure or an abort
// ends the loop and the final value with the same error), and differ where it is deliberate (README, "Two streams"):
// `break` cancels a ChatStream (the loop is its only reader) and only stops reading a Reply (it belongs to the
// conversation, whose messages, listeners and store follow it to the end).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStream, Conversation, createClient, EdgeChatError, type Reply, toSSEStream, UserAbortError } from "../../src/index.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { chunk, gate, json, MODEL, sse, startSSE, startUpstream, streamReply, type Upstream, usage, wait } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 0 });
const stream = (): ChatStream => client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream: true });
const reply = (): Reply => new Conversation({ client: client(), model: MODEL }).send("hi");

/** The two streams side by side. */
const kinds = [
  { name: "ChatStream", make: stream },
  { name: "Reply", make: reply },
] as const;
/** The final value: a Reply's `done`, a ChatStream's `finalChatCompletion()`. */
const final = (s: ChatStream | Reply) => ("done" in s ? s.done : s.finalChatCompletion());

/** An upstream that streams a word every 5 ms until the client goes (or `words` words), and says when it went. */
function endless(words = 400) {
  const closed = gate();
  upstream.handle(async (req, res) => {
    startSSE(res);
    let open = true;
    void req.closed.then(() => {
      open = false;
      closed.open();
    });
    for (let i = 0; open && i < words; i++) {
      res.write(sse(chunk({ content: `${i} ` })));
      await wait(5);
    }
    if (open) res.end(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(3, words) })) + sse("[DONE]"));
  });
  return closed;
}

describe.each(kinds)("$name, like the other stream", ({ make }) => {
  it("is read once: a second iteration throws an EdgeChatError from [Symbol.asyncIterator]() itself", async () => {
    upstream.handle(streamReply(["a", "b"]));
    const s = make();
    for await (const _ of s);
    let thrown: unknown;
    try {
      s[Symbol.asyncIterator]();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EdgeChatError);
    expect(String(thrown)).toMatch(/already been iterated/);
    await final(s);
  });

  it("gives its final value with or without iterating, asked for before or after the loop", async () => {
    upstream.handle(streamReply(["Hel", "lo"]));
    const alone = await final(make());
    expect(JSON.stringify(alone)).toContain("Hello");

    upstream.handle(streamReply(["Hel", "lo"]));
    const s = make();
    // Asked for first, then a loop begun in the same tick: the loop still gets every delta.
    const early = final(s);
    const seen: unknown[] = [];
    for await (const x of s) seen.push(x);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(await early).toBe(await final(s));
  });

  it("a failure ends the loop and rejects the final value with the same error", async () => {
    upstream.handle(json(500, { error: { message: "boom" } }));
    const s = make();
    const loop = await (async () => {
      for await (const _ of s);
    })().catch((e: unknown) => e);
    expect(loop).toBeInstanceOf(EdgeChatError);
    await expect(final(s)).rejects.toBe(loop);
  });

  it("abort() ends the loop and the final value with a UserAbortError; after the end it is a no-op", async () => {
    const closed = endless();
    const s = make();
    let n = 0;
    const loop = await (async () => {
      for await (const _ of s) if (++n === 3) s.abort();
    })().catch((e: unknown) => e);
    expect(loop).toBeInstanceOf(UserAbortError);
    await expect(final(s)).rejects.toBeInstanceOf(UserAbortError);
    await closed.opened;

    upstream.handle(streamReply(["ok"]));
    const finished = make();
    const value = await final(finished);
    finished.abort();
    await expect(final(finished)).resolves.toBe(value);
  });
});

describe("break: the one deliberate difference in reading", () => {
  it("out of a ChatStream cancels the request: the loop is its only reader", async () => {
    const closed = endless();
    const s = stream();
    let n = 0;
    for await (const _ of s) if (++n === 3) break;
    await closed.opened;
    await expect(s.finalChatCompletion()).rejects.toBeInstanceOf(UserAbortError);
    expect(s.currentText).toBe("0 1 2 ");
  });

  it("out of a Reply stops the reading only: the reply goes on, and its conversation and store follow it to the end", async () => {
    const closed = endless(40);
    const store = createMemoryStore();
    const chat = await Conversation.create(store, { client: client(), model: MODEL });
    const r = chat.send("count");
    let n = 0;
    for await (const _ of r) if (++n === 3) break;
    const message = await r.done;
    expect(message).toMatchObject({ status: "complete" });
    expect(message.content.split(" ").filter(Boolean)).toHaveLength(40);
    expect(chat.messages.at(-1)).toBe(message);
    const { messages } = await store.loadMessages(chat.id);
    expect(messages.at(-1)).toMatchObject({ status: "complete", content: message.content });
    // The upstream was read to its end, not cancelled.
    await closed.opened;
  });

  it("reply.abort() is how a loop stops a Reply", async () => {
    endless();
    const r = reply();
    let n = 0;
    await (async () => {
      for await (const _ of r) if (++n === 3) r.abort();
    })().catch(() => {});
    await expect(r.done).rejects.toBeInstanceOf(UserAbortError);
  });
});

describe("toSSEStream", () => {
  it("is the stream's one iteration", async () => {
    upstream.handle(streamReply(["x"]));
    const s = stream();
    const body = toSSEStream(s);
    expect(() => s[Symbol.asyncIterator]()).toThrow(/already been iterated/);
    expect(await new Response(body).text()).toContain('"content":"x"');
    expect((await s.finalChatCompletion()).choices[0]?.message.content).toBe("x");
  });
});
