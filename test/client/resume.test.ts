// Resumable streams: a relay (helpers/relay-server.ts, real HTTP on 127.0.0.1) in front of a DeepInfra-style upstream.
// A connection lost mid-stream is picked up with `Last-Event-ID` under the retry policy; Stop is a cancel (DELETE).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChatCompletionChunk, createClient, NotFoundError, type RetryInfo, StreamInterruptedError, TimeoutError, toSSEStream, UserAbortError } from "../../src/index.ts";
import { type Relay, startRelay } from "../helpers/relay-server.ts";
import { chunk, gate, MODEL, replyEvents, sse, startSSE, startUpstream, type Upstream, usage, wait } from "../helpers/upstream.ts";

let upstream: Upstream;
let relay: Relay;
beforeAll(async () => {
  upstream = await startUpstream();
  relay = await startRelay(upstream.baseURL);
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});
beforeEach(() => relay.reset());

// Multi-byte characters too: a cut inside an event may fall inside one.
const PARTS = ["Once ", "upon ", "a ", "tíme, ", "a 🦊 ", "ran ", "off."];
const TEXT = PARTS.join("");
/** role chunk, one per part, the finish chunk, [DONE]. */
const EVENTS = PARTS.length + 3;

/** The upstream streams PARTS for every request, fast. */
const streamParts = () => upstream.handle((_req, res) => {
  startSSE(res);
  for (const event of replyEvents(PARTS, usage(9, PARTS.length))) res.write(event);
  res.end();
});

type Calls = { url: string; method: string; keepalive: boolean | undefined; headers: Headers; body: unknown }[];
/** A fetch that records what the client sends. */
function recording(calls: Calls): typeof fetch {
  return (input, init = {}) => {
    calls.push({ url: String(input), method: init.method ?? "GET", keepalive: init.keepalive, headers: new Headers(init.headers), body: init.body });
    return fetch(input, init);
  };
}

const client = (options: Parameters<typeof createClient>[0] = {}) => createClient({ baseURL: relay.baseURL, apiKey: "client-a-key", ...options });
const ask = (label: string, options: Parameters<typeof createClient>[0] = {}, signal?: AbortSignal) =>
  client(options).chat.completions.create({ model: MODEL, messages: [{ role: "user", content: label }], stream: true }, signal ? { signal } : {});

const upstreamRequestsFor = (label: string) => upstream.requests.filter((r) => r.body?.messages?.at(-1)?.content === label).length;
const relayed = (method: string) => relay.requests.filter((r) => r.method === method);

describe("a dropped connection is resumed by the stream itself", () => {
  it("at every event boundary and in the middle of every event: exactly the upstream's text, one upstream request each", async () => {
    streamParts();
    const cases: { label: string; dropAfter: number; partial?: number }[] = [];
    for (let k = 0; k < EVENTS; k++) {
      cases.push({ label: `boundary ${k}`, dropAfter: k });
      // Two cuts inside the next event: after its `id:` line was read (its id must not count), and deep in its data.
      if (k < EVENTS - 1) cases.push({ label: `mid ${k} id`, dropAfter: k, partial: 8 }, { label: `mid ${k} data`, dropAfter: k, partial: 40 });
    }
    relay.fault = (g, n) => {
      const c = cases.find((x) => x.label === g.label)!;
      return n === 1 ? { dropAfter: c.dropAfter, ...(c.partial !== undefined && { partial: c.partial }) } : undefined;
    };
    const retries: Record<string, RetryInfo[]> = {};
    const results = await Promise.all(
      cases.map(async ({ label }) => {
        const stream = ask(label, { onRetry: (info) => (retries[label] ??= []).push(info) });
        const deltas: string[] = [];
        const chunks: ChatCompletionChunk[] = [];
        for await (const c of stream) {
          chunks.push(c);
          if (c.choices[0]?.delta.content) deltas.push(c.choices[0].delta.content);
        }
        return { label, text: deltas.join(""), chunks: chunks.length, final: await stream.finalChatCompletion(), position: stream.resumable };
      }),
    );
    for (const r of results) {
      expect(r.text, r.label).toBe(TEXT);
      expect(r.final.choices[0]?.message.content, r.label).toBe(TEXT);
      expect(r.final.choices[0]?.finish_reason, r.label).toBe("stop");
      expect(r.final.usage, r.label).toEqual(usage(9, PARTS.length));
      // Every chunk once: no duplicate, no gap.
      expect(r.chunks, r.label).toBe(EVENTS - 1);
      expect(upstreamRequestsFor(r.label), r.label).toBe(1);
      expect(retries[r.label]?.map((i) => [i.attempt, i.error.name]), r.label).toEqual([[1, "StreamInterruptedError"]]);
      const g = relay.generation(r.position!.url)!;
      expect(r.position, r.label).toEqual({ url: `${relay.origin}/generations/${g.id}`, lastEventId: String(EVENTS - 1) });
    }
    // One resume per case, each from the last whole event before the cut.
    const gets = relayed("GET");
    expect(gets).toHaveLength(cases.length);
    for (const c of cases) {
      const g = [...relay.generations.values()].find((x) => x.label === c.label)!;
      const get = gets.find((r) => r.path === `/generations/${g.id}`)!;
      expect(get.headers["last-event-id"], c.label).toBe(c.dropAfter === 0 ? undefined : String(c.dropAfter));
      expect(get.headers.authorization).toBe("Bearer client-a-key");
    }
    expect(relayed("DELETE")).toHaveLength(0);
  }, 20_000);

  it("textStream, finalChatCompletion() and toSSEStream() see one unbroken stream", async () => {
    streamParts();
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 3, partial: 20 } : undefined);
    let text = "";
    for await (const t of ask("text").textStream) text += t;
    expect(text).toBe(TEXT);

    const final = await ask("final").finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(TEXT);

    const bytes = await new Response(toSSEStream(ask("bytes"))).text();
    const payloads = bytes.split("\n\n").filter((b) => b.startsWith("data: ")).map((b) => b.slice(6));
    expect(payloads.at(-1)).toBe("[DONE]");
    expect(payloads.slice(0, -1).map((p) => JSON.parse(p).choices[0]?.delta.content ?? "").join("")).toBe(TEXT);
    expect(payloads).toHaveLength(EVENTS);
  });

  it("a connection that drops again and again, each time after one more event, still completes: retries count from the last progress", async () => {
    streamParts();
    relay.fault = () => ({ dropAfter: 1 });
    const seen: RetryInfo[] = [];
    const stream = ask("flaky", { maxRetries: 1, onRetry: (i) => seen.push(i) });
    expect((await stream.finalChatCompletion()).choices[0]?.message.content).toBe(TEXT);
    expect(seen.map((i) => i.attempt)).toEqual(Array(EVENTS - 1).fill(1));
    expect(upstreamRequestsFor("flaky")).toBe(1);
  }, 15_000);

  it("maxRetries and onRetry bound the resumes that make no progress; the text so far is kept", async () => {
    streamParts();
    relay.fault = (_g, n) => ({ dropAfter: n === 1 ? 3 : 0 });
    const seen: RetryInfo[] = [];
    const stream = ask("never", { maxRetries: 2, onRetry: (i) => seen.push(i) });
    const error = await stream.finalChatCompletion().catch((e) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect(seen.map((i) => [i.attempt, i.error.name])).toEqual([
      [1, "StreamInterruptedError"],
      [2, "StreamInterruptedError"],
    ]);
    for (const i of seen) expect(i.delayMs).toBeGreaterThan(0);
    expect(stream.currentText).toBe(PARTS.slice(0, 2).join(""));
    expect(relayed("GET")).toHaveLength(2);
    expect(relayed("DELETE")).toHaveLength(0);
  }, 10_000);

  it("maxRetries: 0 surfaces the drop as today, without a resume", async () => {
    streamParts();
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 3 } : undefined);
    await expect(ask("no retries", { maxRetries: 0 }).finalChatCompletion()).rejects.toBeInstanceOf(StreamInterruptedError);
    expect(relayed("GET")).toHaveLength(0);
  });

  it("a resume answered 503 is retried like any request", async () => {
    streamParts();
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 2 } : n === 2 ? { status: 503 } : undefined);
    const seen: RetryInfo[] = [];
    const stream = ask("503", { onRetry: (i) => seen.push(i) });
    expect((await stream.finalChatCompletion()).choices[0]?.message.content).toBe(TEXT);
    expect(seen.map((i) => [i.attempt, i.error.name])).toEqual([
      [1, "StreamInterruptedError"],
      [2, "InternalServerError"],
    ]);
  }, 10_000);

  it("a silent connection (idleTimeout) is resumed too: a phone that slept", async () => {
    streamParts();
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 4, stall: true } : undefined);
    const seen: RetryInfo[] = [];
    const stream = ask("asleep", { idleTimeout: 150, onRetry: (i) => seen.push(i) });
    expect((await stream.finalChatCompletion()).choices[0]?.message.content).toBe(TEXT);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.error).toBeInstanceOf(TimeoutError);
    expect(upstreamRequestsFor("asleep")).toBe(1);
  });

  it("a generation gone when resumed (expired) is a NotFoundError, the text so far kept", async () => {
    streamParts();
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 4, expire: true } : undefined);
    const seen: RetryInfo[] = [];
    const stream = ask("expired", { onRetry: (i) => seen.push(i) });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const t of stream.textStream) texts.push(t);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.status).toBe(404);
    expect((error.body as { error: { code: string } }).error.code).toBe("generation_not_found");
    expect(texts.join("")).toBe(PARTS.slice(0, 3).join(""));
    expect(stream.currentText).toBe(PARTS.slice(0, 3).join(""));
    await expect(stream.finalChatCompletion()).rejects.toBe(error);
    expect(seen).toHaveLength(1);
  });

  it("without the Edgechat-Resume header the server is an ordinary one: ids or not, a drop is a StreamInterruptedError and nothing is resumed", async () => {
    streamParts();
    relay.advertise = false;
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 3 } : undefined);
    const stream = ask("plain");
    expect(stream.resumable).toBeUndefined();
    await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(StreamInterruptedError);
    expect(stream.resumable).toBeUndefined();
    expect(relayed("GET")).toHaveLength(0);
    // And straight from the upstream, as before.
    upstream.handle((_req, res) => {
      startSSE(res);
      res.write(sse(chunk({ content: "Hel" })));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const direct = createClient({ baseURL: upstream.baseURL }).chat.completions.create({ model: MODEL, messages: [], stream: true });
    await expect(direct.finalChatCompletion()).rejects.toBeInstanceOf(StreamInterruptedError);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("resumable and resume()", () => {
  it("resumable follows the chunks handed out, not those parsed ahead; resume(url, { lastEventId }) reads the rest", async () => {
    streamParts();
    const stream = ask("reload");
    const iterator = stream[Symbol.asyncIterator]();
    const positions: string[] = [];
    let text = "";
    for (let i = 0; i < 4; i++) {
      const { value } = await iterator.next();
      text += value!.choices[0]?.delta.content ?? "";
      positions.push(stream.resumable!.lastEventId);
    }
    // The whole reply arrived in a read or two; the position is still that of the fourth chunk.
    expect(positions).toEqual(["1", "2", "3", "4"]);
    const point = stream.resumable!;
    expect(point.url).toMatch(new RegExp(`^${relay.origin}/generations/`));
    // The page goes away here (this stream is never read again); another reads on from where it stood.
    const resumed = client().chat.completions.resume(point.url, { lastEventId: point.lastEventId });
    for await (const t of resumed.textStream) text += t;
    expect(text).toBe(TEXT);
    expect(resumed.resumable).toEqual({ url: point.url, lastEventId: String(EVENTS - 1) });
    expect(relayed("GET")[0]?.headers["last-event-id"]).toBe("4");
    expect(upstreamRequestsFor("reload")).toBe(1);
    await iterator.return!();
  });

  it("resume(url) without lastEventId reads from the start; a foreign or unknown generation is a NotFoundError", async () => {
    streamParts();
    const first = ask("again");
    await first.finalChatCompletion();
    const { url } = first.resumable!;
    const again = await client().chat.completions.resume(url).finalChatCompletion();
    expect(again.choices[0]?.message.content).toBe(TEXT);
    expect(relayed("GET")[0]?.headers["last-event-id"]).toBeUndefined();
    await expect(client({ apiKey: "client-b-key" }).chat.completions.resume(url).finalChatCompletion()).rejects.toBeInstanceOf(NotFoundError);
    await expect(client().chat.completions.resume(`${relay.origin}/generations/nope`).finalChatCompletion()).rejects.toBeInstanceOf(NotFoundError);
    expect(upstreamRequestsFor("again")).toBe(1);
  });
});

describe("Stop is a cancel; a reader leaving only detaches", () => {
  /** The upstream streams slowly (until cancelled): a generation still running when the test acts. */
  const slowUpstream = () => {
    const closed = gate();
    upstream.handle(async (req, res) => {
      startSSE(res);
      let open = true;
      void req.closed.then(() => {
        open = false;
        closed.open();
      });
      res.write(sse(chunk({ role: "assistant", content: "" })));
      for (let i = 0; open && i < 200; i++) {
        res.write(sse(chunk({ content: `w${i} ` })));
        await wait(10);
      }
      if (open) res.end(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(5, 200) })) + sse("[DONE]"));
    });
    return closed;
  };

  const stops: [string, (stream: ReturnType<typeof ask>, controller: AbortController, iterator: AsyncIterator<unknown>) => unknown][] = [
    ["stream.abort()", (stream) => stream.abort()],
    ["an aborted signal", (_s, controller) => controller.abort()],
    ["breaking out of the loop", (_s, _c, iterator) => iterator.return!()],
  ];
  for (const [name, stop] of stops) {
    it(`${name} sends one DELETE, keepalive, with the client's headers and no body; every reader ends "cancelled"`, async () => {
      const upstreamClosed = slowUpstream();
      const calls: Calls = [];
      const controller = new AbortController();
      const stream = ask(`stop ${name}`, { fetch: recording(calls), headers: { "x-app": "demo" } }, controller.signal);
      const iterator = stream[Symbol.asyncIterator]();
      for (let i = 0; i < 5; i++) await iterator.next();
      const { url } = stream.resumable!;
      // A second reader of the same generation (another tab), from the start.
      const other = client().chat.completions.resume(url);
      const otherDone = other.finalChatCompletion();
      await wait(30);
      await stop(stream, controller, iterator);
      if (name !== "breaking out of the loop") await expect(iterator.next()).rejects.toBeInstanceOf(UserAbortError);
      const final = await otherDone;
      expect(final.choices[0]?.finish_reason).toBe("cancelled");
      expect(final.choices[0]?.message.content).toMatch(/^w0 w1 w2 w3 /);
      await upstreamClosed.opened;
      const deletes = calls.filter((c) => c.method === "DELETE");
      expect(deletes).toHaveLength(1);
      expect(deletes[0]).toMatchObject({ url, keepalive: true, body: undefined });
      expect(deletes[0]!.headers.get("authorization")).toBe("Bearer client-a-key");
      expect(deletes[0]!.headers.get("x-app")).toBe("demo");
      expect(relayed("DELETE")).toHaveLength(1);
      expect(relay.generation(url)!.cancelled).toBe(true);
      // An abort after it all is a no-op: no second DELETE.
      stream.abort();
      await wait(20);
      expect(relayed("DELETE")).toHaveLength(1);
    });
  }

  const stopsByReader: [string, (stream: ReturnType<typeof ask>) => Promise<void>][] = [
    [
      "a break in a for await loop",
      async (stream) => {
        let n = 0;
        for await (const _ of stream.textStream) if (++n === 4) break;
      },
    ],
    [
      "cancelling toSSEStream(stream), as a Worker's client that leaves does",
      async (stream) => {
        const reader = toSSEStream(stream, { keepAliveMs: 0 }).getReader();
        for (let i = 0; i < 5; i++) await reader.read();
        await reader.cancel();
      },
    ],
  ];
  for (const [name, stop] of stopsByReader) {
    it(`${name} cancels the generation: one DELETE`, async () => {
      const upstreamClosed = slowUpstream();
      const calls: Calls = [];
      const stream = ask(`stop ${name}`, { fetch: recording(calls) });
      await stop(stream);
      const { url } = stream.resumable!;
      await upstreamClosed.opened;
      expect(calls.filter((c) => c.method === "DELETE").map((c) => c.url)).toEqual([url]);
      expect(relay.generation(url)!.cancelled).toBe(true);
      await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(UserAbortError);
    });
  }

  it("an abort after the reply finished sends nothing", async () => {
    streamParts();
    const calls: Calls = [];
    const stream = ask("done then abort", { fetch: recording(calls) });
    await stream.finalChatCompletion();
    stream.abort();
    await wait(20);
    expect(calls.map((c) => c.method)).toEqual(["POST"]);
  });

  it("a reader whose page went away (its connection cut, its code never run again) sends nothing, and the generation goes on", async () => {
    const upstreamClosed = slowUpstream();
    const calls: Calls = [];
    // The page's network: every connection it opened is cut when it goes away.
    const page = new AbortController();
    const pageFetch: typeof fetch = (input, init = {}) => {
      const signal = init.signal ? AbortSignal.any([init.signal, page.signal]) : page.signal;
      return recording(calls)(input, { ...init, signal });
    };
    const stream = ask("page gone", { fetch: pageFetch });
    const iterator = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await iterator.next();
    const point = stream.resumable!;
    // Gone: the connection is cut, and nothing of the page runs again (nobody reads the stream).
    page.abort();
    const g = relay.generation(point.url)!;
    await relay.finished(g);
    await upstreamClosed.opened;
    expect(g.cancelled).toBe(false);
    expect(calls.map((c) => c.method)).toEqual(["POST"]);
    expect(relayed("DELETE")).toHaveLength(0);
    // The next page picks it up where this one stood.
    const final = await client().chat.completions.resume(point.url, { lastEventId: point.lastEventId }).finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(relay.textUpTo(g, point.lastEventId) + final.choices[0]!.message.content).toBe(relay.textUpTo(g, String(g.events.length)));
  });

  it("a stream that fails by itself (no resume left) does not cancel: the generation stays readable", async () => {
    streamParts();
    relay.fault = (_g, n) => (n === 1 ? { dropAfter: 3 } : undefined);
    const calls: Calls = [];
    const stream = ask("fails", { fetch: recording(calls), maxRetries: 0 });
    await expect(stream.finalChatCompletion()).rejects.toBeInstanceOf(StreamInterruptedError);
    stream.abort();
    await wait(20);
    expect(calls.map((c) => c.method)).toEqual(["POST"]);
    expect(stream.resumable?.lastEventId).toBe("3");
  });
});
