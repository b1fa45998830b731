import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversation, type ConversationChange } from "../../src/conversation/conversation.ts";
import { OMITTED_IMAGE_TEXT } from "../../src/conversation/fit.ts";
import { UnsupportedImageError } from "../../src/images/input.ts";
import { AuthenticationError, createClient, EdgeChatError, UserAbortError, ValidationError } from "../../src/index.ts";
import { makePNG } from "../helpers/images.ts";
import { llamaServer } from "../helpers/llama-server.ts";
import { chunk, gate, json, MODEL, sse, startSSE, startUpstream, streamReply, type Upstream, usage, wait } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const client = () => createClient({ baseURL: upstream.baseURL, maxRetries: 0 });
const conversation = (extra: Partial<ConstructorParameters<typeof Conversation>[0]> = {}) => new Conversation({ client: client(), model: MODEL, ...extra });

describe("Conversation.send", () => {
  it("appends the user message before the request, streams the reply, and ends complete with usage", async () => {
    const conv = conversation({ system: "Be brief." });
    let seenAtRequest: readonly unknown[] = [];
    upstream.handle((req, res) => {
      seenAtRequest = conv.messages.map((m) => m.role);
      return streamReply(["Bon", "jour"], usage(20, 2, 0.00001))(req, res);
    });
    const changes: ConversationChange["type"][] = [];
    const states: string[] = [];
    // What was spent, as a listener reads it when the reply shows complete (a page's cost meter does).
    const spentWhenComplete: number[] = [];
    conv.onChange((c) => {
      if (c.type === "update" && c.message.role === "assistant" && c.message.status === "complete") spentWhenComplete.push(conv.usage.cost);
      return c.type === "reply" ? states.push(c.reply.state) : changes.push(c.type);
    });
    const reply = conv.send("Say hello in French");
    const deltas: string[] = [];
    for await (const d of reply) deltas.push(d);
    const final = await reply.done;

    expect(seenAtRequest).toEqual(["user"]);
    expect(deltas).toEqual(["Bon", "jour"]);
    expect(final).toMatchObject({ role: "assistant", content: "Bonjour", status: "complete", finishReason: "stop", usage: usage(20, 2, 0.00001) });
    expect(conv.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(conv.messages[1]).toBe(final);
    expect(changes[0]).toBe("append");
    expect(changes).toContain("update");
    expect(states).toEqual(["streaming", "complete"]);
    const body = upstream.requests[0]!.body;
    expect(body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello in French" },
    ]);
    expect(body).toMatchObject({ model: MODEL, stream: true, max_tokens: 4096, stream_options: { include_usage: true } });
    expect(conv.usage).toEqual({ promptTokens: 20, completionTokens: 2, cost: 0.00001 });
    expect(spentWhenComplete).toEqual([0.00001]);
  });

  it("shows the assistant message as streaming while the reply arrives", async () => {
    const release = gate();
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ role: "assistant", content: "" })));
      res.write(sse(chunk({ content: "Hal" })));
      await release.opened;
      res.write(sse(chunk({ content: "lo" }, { finish_reason: "stop", usage: usage(5, 2) })));
      res.end(sse("[DONE]"));
    });
    const conv = conversation();
    const reply = conv.send("hi");
    for await (const d of reply) {
      expect(d).toBe("Hal");
      expect(conv.messages[1]).toMatchObject({ status: "streaming", content: "Hal" });
      expect(conv.busy).toBe(true);
      release.open();
      break;
    }
    await reply.done;
    expect(conv.messages[1]).toMatchObject({ status: "complete", content: "Hallo" });
    expect(conv.busy).toBe(false);
  });

  it("an abort keeps the partial text and marks the reply interrupted", async () => {
    upstream.handle(async (req, res) => {
      startSSE(res);
      let open = true;
      void req.closed.then(() => (open = false));
      for (let i = 0; open && i < 400; i++) {
        res.write(sse(chunk({ content: `${i} ` })));
        await wait(5);
      }
      res.end();
    });
    const conv = conversation();
    const reply = conv.send("count");
    let n = 0;
    const iteration = await (async () => {
      for await (const _ of reply) if (++n === 3) conv.abort();
    })().catch((e) => e);
    expect(iteration).toBeInstanceOf(UserAbortError);
    await expect(reply.done).rejects.toBeInstanceOf(UserAbortError);
    const last = conv.messages[1]!;
    expect(last).toMatchObject({ role: "assistant", status: "interrupted", error: { name: "UserAbortError" } });
    expect(String(last.content).startsWith("0 1 2 ")).toBe(true);
  });

  it("a failed request leaves an assistant message with status error, and done rejects with the typed error", async () => {
    upstream.handle(json(401, { detail: "Invalid token" }));
    const conv = conversation();
    const reply = conv.send("hi");
    await expect(reply.done).rejects.toBeInstanceOf(AuthenticationError);
    expect(conv.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(conv.messages[1]).toMatchObject({ status: "error", content: "", error: { name: "AuthenticationError" } });
    // The empty failed reply is not sent back to the model next time.
    upstream.handle(streamReply(["ok"]));
    await conv.send("again").done;
    expect(upstream.requests[0]!.body.messages.map((m: { role: string }) => m.role)).toEqual(["user", "user"]);
  });

  it("a reply cut off at max_tokens is interrupted (and continuable)", async () => {
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "Once upon" })));
      res.end(sse(chunk({ content: "" }, { finish_reason: "length", usage: usage(3, 2) })) + sse("[DONE]"));
    });
    const conv = conversation();
    const final = await conv.send("story").done;
    expect(final).toMatchObject({ status: "interrupted", finishReason: "length", content: "Once upon" });
  });

  it('whileBusy "reject": a second send while a reply streams throws, and changes nothing', async () => {
    const release = gate();
    upstream.handle(async (req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "x" })));
      await release.opened;
      return streamReply([])(req, res);
    });
    const conv = conversation({ whileBusy: "reject" });
    const reply = conv.send("one");
    expect(() => conv.send("two")).toThrow(EdgeChatError);
    release.open();
    await reply.done.catch(() => {});
    expect(conv.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(upstream.requests).toHaveLength(1);
  });

  it('whileBusy "queue" (the default): sends made while a reply streams run after it, in order, each with the whole history', async () => {
    const release = gate();
    let n = 0;
    upstream.handle(async (req, res) => {
      const mine = ++n;
      if (mine === 1) {
        startSSE(res);
        res.write(sse(chunk({ content: "one " })));
        await release.opened;
        res.write(sse(chunk({ content: "done" }, { finish_reason: "stop" })));
        res.end("data: [DONE]\n\n");
        return;
      }
      return streamReply([`reply ${mine}`])(req, res);
    });
    const conv = conversation();
    const states: string[][] = [[], [], []];
    const replies = ["a", "b", "c"].map((text, i) => {
      const reply = conv.send(text);
      conv.onChange((c) => c.type === "reply" && c.reply === reply && states[i]!.push(c.reply.state));
      return reply;
    });
    expect(conv.busy).toBe(true);
    await wait(50);
    expect(replies.map((r) => r.state)).toEqual(["streaming", "queued", "queued"]);
    expect(upstream.requests).toHaveLength(1);
    release.open();
    const finals = await Promise.all(replies.map((r) => r.done));
    expect(finals.map((m) => m.content)).toEqual(["one done", "reply 2", "reply 3"]);
    expect(conv.messages.map((m) => m.content)).toEqual(["a", "one done", "b", "reply 2", "c", "reply 3"]);
    expect(upstream.requests.map((r) => r.body.messages.length)).toEqual([1, 3, 5]);
    expect(states.slice(1)).toEqual([["streaming", "complete"], ["streaming", "complete"]]);
    expect(conv.busy).toBe(false);
  });

  it('whileBusy "replace": a send stops the running reply (kept, interrupted) and drops the queued ones', async () => {
    upstream.handle(async (req, res) => {
      if (JSON.stringify(req.body).includes("second")) return streamReply(["fresh"])(req, res);
      startSSE(res);
      res.write(sse(chunk({ content: "partial " })));
      await new Promise((resolve) => res.on("close", resolve));
    });
    const conv = conversation({ whileBusy: "replace" });
    const first = conv.send("first");
    for await (const _ of first) break;
    const second = conv.send("second");
    await expect(first.done).rejects.toBeInstanceOf(UserAbortError);
    expect(first.state).toBe("interrupted");
    expect((await second.done).content).toBe("fresh");
    expect(conv.messages.map((m) => [m.content, m.role === "assistant" ? m.status : "user"])).toEqual([
      ["first", "user"],
      ["partial ", "interrupted"],
      ["second", "user"],
      ["fresh", "complete"],
    ]);
  });

  it("abort() stops the running reply and every queued one; a queued reply aborted on its own never starts", async () => {
    upstream.handle(async (_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "x" })));
      await new Promise((resolve) => res.on("close", resolve));
    });
    const conv = conversation();
    const [a, b, c] = [conv.send("a"), conv.send("b"), conv.send("c")];
    b.abort();
    await expect(b.done).rejects.toBeInstanceOf(UserAbortError);
    expect(b.state).toBe("interrupted");
    for await (const _ of a) break;
    conv.abort();
    await expect(a.done).rejects.toBeInstanceOf(UserAbortError);
    await expect(c.done).rejects.toBeInstanceOf(UserAbortError);
    expect(conv.messages.map((m) => m.content)).toEqual(["a", "x"]);
    expect(upstream.requests).toHaveLength(1);
    expect(conv.busy).toBe(false);
  });

  it("a throwing onChange listener changes nothing: the reply completes, is stored complete, and the next send works", async () => {
    upstream.handle(streamReply(["Hel", "lo"], usage(9, 2)));
    const errors: unknown[] = [];
    const conv = conversation({ onListenerError: (error) => errors.push(error) });
    conv.onChange(() => {
      throw new Error("listener bug");
    });
    const seen: string[] = [];
    conv.onChange((c) => seen.push(c.type));
    const message = await conv.send("hi").done;
    expect(message).toMatchObject({ status: "complete", content: "Hello" });
    expect(conv.busy).toBe(false);
    expect(errors.length).toBeGreaterThan(2);
    expect(seen).toContain("update"); // the listeners after it still hear everything
    expect((await conv.send("again").done).status).toBe("complete");
  });

  it("without onListenerError, a listener's error is reported like an uncaught one, and the reply is unaffected", async () => {
    upstream.handle(streamReply(["ok"]));
    const reported: unknown[] = [];
    const original = (globalThis as { reportError?: unknown }).reportError;
    (globalThis as { reportError?: unknown }).reportError = (e: unknown) => reported.push(e);
    try {
      const conv = conversation();
      conv.onChange((c) => {
        if (c.type === "append") throw new Error("thrown before the stream");
      });
      expect((await conv.send("hi").done).status).toBe("complete");
      expect(reported.map((e) => (e as Error).message)).toEqual(["thrown before the stream", "thrown before the stream"]);
    } finally {
      (globalThis as { reportError?: unknown }).reportError = original;
    }
  });

  it("rejects an unsupported image before changing anything", () => {
    const conv = conversation();
    expect(() => conv.send([{ type: "image", image: new TextEncoder().encode("%PDF-1.7"), mimeType: "application/pdf" }])).toThrow(UnsupportedImageError);
    expect(conv.messages).toHaveLength(0);
    expect(conv.busy).toBe(false);
  });

  it("needs an explicit contextWindow for a model it has no preset for", () => {
    expect(() => new Conversation({ client: client(), model: "some/unknown-model" })).toThrow(/contextWindow/);
    expect(new Conversation({ client: client(), model: "some/unknown-model", contextWindow: 8192 }).contextWindow).toBe(8192);
    expect(conversation().contextWindow).toBe(32768);
    expect(new Conversation({ client: client(), model: "meta-llama/Llama-3.2-11B-Vision-Instruct" }).contextWindow).toBe(131072);
  });
});

describe("regenerate and edit", () => {
  it("regenerate and edit add versions; the path follows the newest, and switchTo goes back to any of them", async () => {
    let n = 0;
    upstream.handle((req, res) => streamReply([`reply ${++n}`])(req, res));
    const conv = conversation();
    await conv.send("first").done;
    await conv.send("second").done;
    const removed: string[] = [];
    conv.onChange((c) => c.type === "remove" && removed.push(...c.ids));
    const [first, reply1, second, reply2] = conv.messages.map((m) => m.id) as [string, string, string, string];

    await conv.regenerate().done;
    expect(conv.messages.map((m) => m.content)).toEqual(["first", "reply 1", "second", "reply 3"]);
    expect(removed).toEqual([reply2]);
    const reply3 = conv.messages[3]!.id;
    expect(conv.versions(reply3)).toEqual({ ids: [reply2, reply3], index: 1 });
    expect(conv.versions(second)).toEqual({ ids: [second], index: 0 });
    expect(conv.messages[3]!.parentId).toBe(second);

    await conv.regenerate(reply1).done; // any reply, not only the last
    expect(conv.messages.map((m) => m.content)).toEqual(["first", "reply 4"]);
    expect(upstream.requests.at(-1)!.body.messages).toEqual([{ role: "user", content: "first" }]);
    expect(conv.versions(conv.messages[1]!.id).ids).toEqual([reply1, conv.messages[1]!.id]);

    await conv.edit(first, "first, edited").done;
    expect(conv.messages.map((m) => m.content)).toEqual(["first, edited", "reply 5"]);
    expect(conv.messages[0]!.id).not.toBe(first);
    expect(conv.messages[0]!.parentId).toBeUndefined();
    expect(conv.versions(conv.messages[0]!.id)).toEqual({ ids: [first, conv.messages[0]!.id], index: 1 });
    expect(upstream.requests.at(-1)!.body.messages).toEqual([{ role: "user", content: "first, edited" }]);
    expect(() => conv.edit(conv.messages[1]!.id, "x")).toThrow(/No user message/);

    await conv.switchTo(first); // the newest leaf under it: reply 4's path
    expect(conv.messages.map((m) => m.content)).toEqual(["first", "reply 4"]);
    await conv.switchTo(reply1);
    expect(conv.messages.map((m) => m.content)).toEqual(["first", "reply 1", "second", "reply 3"]);
    await conv.switchTo(reply2);
    expect(conv.messages.map((m) => m.content)).toEqual(["first", "reply 1", "second", "reply 2"]);
    await conv.edit(second, "second, edited").done; // a user message in the middle of the path
    expect(conv.messages.map((m) => m.content)).toEqual(["first", "reply 1", "second, edited", "reply 6"]);
    expect(upstream.requests.at(-1)!.body.messages.map((m: { content: string }) => m.content)).toEqual(["first", "reply 1", "second, edited"]);

    // Every version is in the document, and comes back with the same path.
    const back = await Conversation.fromJSON(JSON.stringify(conv), { client: client() });
    expect(back.messages).toEqual(conv.messages);
    expect(back.toJSON().messages).toHaveLength(10);
    await back.switchTo(back.versions(first).ids[1]!);
    expect(back.messages.map((m) => m.content)).toEqual(["first, edited", "reply 5"]);
    await back.switchTo(first); // the newest leaf under it is now reply 6
    expect(back.messages.map((m) => m.content)).toEqual(["first", "reply 1", "second, edited", "reply 6"]);
  });

  it("switchTo rejects while a reply streams, and for a message it does not hold", async () => {
    upstream.handle(streamReply(["a", "b"]));
    const conv = conversation();
    const reply = conv.send("q");
    await expect(conv.switchTo("nope")).rejects.toThrow(/still streaming/);
    await reply.done;
    await expect(conv.switchTo("nope")).rejects.toThrow(/No message/);
  });
});

describe("images", () => {
  it("sends bytes as a data: URL, and only the most recent image for Llama 3.2 Vision", async () => {
    upstream.handle(streamReply(["seen"]));
    const conv = conversation();
    const red = makePNG(64, 48, [255, 0, 0]);
    const blue = makePNG(32, 32, [0, 0, 255]);
    await conv.send([{ type: "text", text: "what colour?" }, { type: "image", image: red }]).done;
    expect(conv.messages[0]!.content).toEqual([
      { type: "text", text: "what colour?" },
      { type: "image", data: red, mimeType: "image/png", width: 64, height: 48 },
    ]);
    await conv.send([{ type: "image", image: new Blob([blue], { type: "image/png" }) }, { type: "text", text: "and this?" }]).done;

    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent[0].content).toEqual([
      { type: "text", text: "what colour?" },
      { type: "text", text: OMITTED_IMAGE_TEXT },
    ]);
    const last = sent.at(-1).content;
    expect(last[0].type).toBe("image_url");
    expect(last[0].image_url.url).toBe(`data:image/png;base64,${Buffer.from(blue).toString("base64")}`);
  });

  it("accepts data: URLs, https URLs and the API's own image_url parts", async () => {
    upstream.handle(streamReply(["ok"]));
    const conv = conversation({ imagePolicy: "all" });
    const png = makePNG(10, 10);
    const dataURL = `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
    await conv.send([
      { type: "image", image: dataURL },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
    ]).done;
    expect(conv.messages[0]!.content).toEqual([
      { type: "image", data: png, mimeType: "image/png", width: 10, height: 10 },
      { type: "image", url: "https://example.com/cat.jpg" },
    ]);
    expect(upstream.requests[0]!.body.messages[0].content).toEqual([
      { type: "image_url", image_url: { url: dataURL } },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
    ]);
  });
});

describe("the system message counts against the window", () => {
  it("fit() counts it (without listing it), and a long one leaves less room for the history", async () => {
    upstream.handle(streamReply(["ok"]));
    const system = "Answer about river shipping: schedules, fares, luggage and harbours. ".repeat(60);
    const plain = conversation({ contextWindow: 2048, maxOutputTokens: 48 });
    const instructed = conversation({ contextWindow: 2048, maxOutputTokens: 48, system });
    for (const chat of [plain, instructed]) for (let i = 0; i < 6; i++) await chat.send(`question ${i}: ${"words ".repeat(250)}`).done;
    const [a, b] = [plain.fit(), instructed.fit()];
    expect(b.messages.every((m) => m.role !== ("system" as string))).toBe(true);
    expect(b.tokens).toBeLessThanOrEqual(b.budget);
    expect(b.droppedTurns).toBeGreaterThan(a.droppedTurns); // the system text took the room of older turns
    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent[0]).toEqual({ role: "system", content: system });
    expect(sent.filter((m: { role: string }) => m.role === "system")).toHaveLength(1);
  });
});

describe("fitting and calibration against a server that counts with the real Llama 3 tokenizer", () => {
  it("trims old turns to the window and reports what it left out", async () => {
    upstream.handle(llamaServer());
    const conv = conversation({ contextWindow: 2048, maxOutputTokens: 256 });
    for (let i = 0; i < 12; i++) await conv.send(`Question ${i}: ${"tell me more about llamas and their wool. ".repeat(30)}`).done;
    const report = conv.lastContext!;
    expect(report.droppedTurns).toBeGreaterThan(0);
    expect(report.tokens).toBeLessThanOrEqual(report.budget);
    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent[0].role).toBe("user");
    expect(sent.at(-1).content).toMatch(/^Question 11:/);
  });

  it("converges its correction factor so estimates match the server's prompt_tokens", async () => {
    const counted: number[] = [];
    upstream.handle(llamaServer({ counted }));
    // A counter that is 30% low, as a naive one would be on some text: calibration must correct it.
    const { estimateTokens } = await import("../../src/tokens/estimate.ts");
    const low = (t: string) => Math.round(estimateTokens(t) * 0.7);
    const conv = conversation({ countTokens: low });
    const errors: number[] = [];
    for (let i = 0; i < 6; i++) {
      const predicted = conv.fit();
      void predicted;
      await conv.send(`Turn ${i}. ${"The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ".repeat(20)}`).done;
      const estimate = conv.lastContext!.tokens;
      errors.push(Math.abs(estimate - counted.at(-1)!) / counted.at(-1)!);
    }
    expect(errors[0]).toBeGreaterThan(0.15);
    expect(errors.at(-1)).toBeLessThan(0.05);
    expect(conv.calibration.samples).toBe(6);
    expect(conv.calibration.text).toBeGreaterThan(1.2);
  });

  it("after a context-length error, trims using the server's numbers and retries once, recording it", async () => {
    const counted: number[] = [];
    upstream.handle(llamaServer({ counted, maxInputTokens: 1500 }));
    // The conversation believes the window is 8192; the server takes 1500 input tokens.
    const conv = conversation({ contextWindow: 8192, maxOutputTokens: 256 });
    for (let i = 0; i < 4; i++) {
      upstream.handle(streamReply([`answer ${i} `.repeat(50)]));
      await conv.send(`Question ${i}: ${"about alpacas and llamas ".repeat(30)}`).done;
    }
    upstream.handle(llamaServer({ counted, maxInputTokens: 1500 }));
    const final = await conv.send("And finally?").done;
    expect(counted).toHaveLength(2);
    expect(counted[0]).toBeGreaterThan(1500);
    expect(counted[1]).toBeLessThanOrEqual(1500);
    expect(final).toMatchObject({ status: "complete", contextRetry: true });
    expect(conv.contextWindow).toBe(1500 + 256);
  });

  it("summarize turns dropped turns into one short text after the system message, computed once per dropped set", async () => {
    upstream.handle(llamaServer());
    const calls: number[] = [];
    const conv = conversation({
      system: "You are helpful.",
      contextWindow: 1500,
      maxOutputTokens: 200,
      summarize: (dropped) => {
        calls.push(dropped.length);
        return `${dropped.length} earlier messages about llamas.`;
      },
    });
    for (let i = 0; i < 8; i++) await conv.send(`Llama fact ${i}: ${"llamas hum and spit. ".repeat(60)}`).done;
    expect(calls.length).toBeGreaterThan(0);
    const sent = upstream.requests.at(-1)!.body.messages;
    expect(sent[0].role).toBe("system");
    expect(sent[0].content).toMatch(/^You are helpful\.\n\nSummary of the earlier conversation: \d+ earlier messages about llamas\.$/);
    // Fitting again without a new message asks for no new summary.
    const before = calls.length;
    conv.fit();
    expect(calls.length).toBe(before);
  });
});

describe("JSON", () => {
  it("round-trips messages, images, usage and calibration", async () => {
    upstream.handle(llamaServer());
    const conv = conversation({ system: "sys" });
    await conv.send([{ type: "text", text: "look" }, { type: "image", image: makePNG(20, 10) }]).done;
    conv.pin(conv.messages[0]!.id);
    const text = JSON.stringify(conv);
    const back = await Conversation.fromJSON(text, { client: client() });
    expect(back.id).toBe(conv.id);
    expect(back.system).toBe("sys");
    expect(back.messages).toEqual(conv.messages);
    expect(back.calibration).toEqual(conv.calibration);
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(text));
  });

  it("marks a reply saved while streaming as interrupted", async () => {
    const json = {
      format: "edgechat.conversation",
      version: 1,
      id: "c1",
      model: MODEL,
      createdAt: 1,
      messages: [
        { id: "u1", role: "user", content: "hi", createdAt: 1 },
        { id: "a1", role: "assistant", content: "Hel", status: "streaming", createdAt: 2 },
      ],
    };
    const conv = await Conversation.fromJSON(json, { client: client() });
    expect(conv.messages[1]).toMatchObject({ status: "interrupted", content: "Hel" });
  });

  it("rejects bad documents with a ValidationError naming the path, building nothing", async () => {
    const good = { format: "edgechat.conversation", version: 1, id: "c1", model: MODEL, createdAt: 1, messages: [{ id: "u1", role: "user", content: "hi", createdAt: 1 }] };
    const cases: [unknown, string][] = [
      [{ ...good, version: 3 }, "version"],
      [{ ...good, version: 2, messages: [{ ...good.messages[0], parentId: "u0" }] }, "messages[0].parentId"],
      [{ ...good, version: 2, activeLeaf: "u9" }, "activeLeaf"],
      [{ ...good, messages: [{ id: "u1", role: "user", content: 42, createdAt: 1 }] }, "messages[0].content"],
      [{ ...good, messages: [{ id: "a1", role: "assistant", content: "x", status: "done", createdAt: 1 }] }, "messages[0].status"],
      [{ ...good, messages: [{ id: "u1", role: "user", content: [{ type: "image", data: "@@not base64@@", mimeType: "image/png" }], createdAt: 1 }] }, "messages[0].content"],
      [{ ...good, messages: [...good.messages, ...good.messages] }, "messages[1].id"],
      [JSON.parse('{"__proto__": {"polluted": true}, "format": "edgechat.conversation"}'), ""],
    ];
    for (const [input, path] of cases) {
      let error: unknown;
      try {
        await Conversation.fromJSON(input, { client: client() });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      if (path) expect((error as ValidationError).message).toContain(path);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
