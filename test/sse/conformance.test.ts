// WHATWG HTML, "Parsing an event stream" and "Interpreting an event stream": each rule, in every chunking.
import { describe, expect, it } from "vitest";
import { createSSEParser, parseSSE, type ServerSentEvent, SSEParserStream } from "../../src/sse/index.ts";
import { chunkings, streamOf } from "../helpers/chunking.ts";

interface Outcome {
  events: ServerSentEvent[];
  comments: string[];
  retries: number[];
}

async function viaIterator(chunks: Uint8Array[]): Promise<Outcome> {
  const out: Outcome = { events: [], comments: [], retries: [] };
  const options = { onComment: (c: string) => out.comments.push(c), onRetry: (ms: number) => out.retries.push(ms) };
  for await (const event of parseSSE(streamOf(chunks), options)) out.events.push(event);
  return out;
}

async function viaTransform(chunks: Uint8Array[]): Promise<Outcome> {
  const out: Outcome = { events: [], comments: [], retries: [] };
  const options = { onComment: (c: string) => out.comments.push(c), onRetry: (ms: number) => out.retries.push(ms) };
  const reader = streamOf(chunks).pipeThrough(new SSEParserStream(options)).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.events.push(value);
  }
}

/** The callback API, fed text as a user's own decoding would produce it (one streaming TextDecoder). */
function viaCallback(pieces: Array<Uint8Array | string>): Outcome {
  const out: Outcome = { events: [], comments: [], retries: [] };
  const parser = createSSEParser({ onEvent: (e) => out.events.push(e), onComment: (c) => out.comments.push(c), onRetry: (ms) => out.retries.push(ms) });
  const decoder = new TextDecoder();
  for (const piece of pieces) parser.feed(typeof piece === "string" ? piece : decoder.decode(piece, { stream: true }));
  parser.feed(decoder.decode());
  return out;
}

const ev = (data: string, extra: Partial<ServerSentEvent> = {}): ServerSentEvent => ({ event: "message", data, id: "", ...extra });
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Parse `input` in every chunking, both ways, and expect the same outcome each time. */
async function expectStream(input: string | Uint8Array, expected: ServerSentEvent[], extra: Partial<Omit<Outcome, "events">> = {}) {
  const bytes = typeof input === "string" ? utf8(input) : input;
  const want: Outcome = { events: expected, comments: extra.comments ?? [], retries: extra.retries ?? [] };
  for (const [name, chunks] of chunkings(bytes)) {
    expect(await viaIterator(chunks), `parseSSE, ${name}`).toEqual(want);
  }
  expect(await viaTransform([bytes]), "SSEParserStream, one chunk").toEqual(want);
  for (const [name, chunks] of chunkings(bytes)) expect(viaCallback(chunks), `SSEParser, ${name}`).toEqual(want);
  // Text split at every position (between CR and LF, inside "data:", between a surrogate pair's halves).
  const text = new TextDecoder().decode(bytes);
  for (let cut = 0; cut <= text.length; cut++) {
    expect(viaCallback([text.slice(0, cut), text.slice(cut)]), `SSEParser, text split at ${cut}`).toEqual(want);
  }
  expect(await viaTransform(Array.from(bytes, (b) => Uint8Array.of(b))), "SSEParserStream, byte by byte").toEqual(want);
}

describe("parsing an event stream", () => {
  it("dispatches a simple event as type message", async () => {
    await expectStream("data: hello\n\n", [ev("hello")]);
  });

  it("accepts LF, CR and CRLF line ends, mixed in one stream", async () => {
    await expectStream("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n", [ev("a"), ev("b"), ev("c"), ev("d")]);
  });

  it("treats CR then LF as one line end even when split across chunks (every split is tried)", async () => {
    await expectStream("data: x\r\n\r\ndata: y\r\n\r\n", [ev("x"), ev("y")]);
    // A CRLF mistaken for two line ends would dispatch "a" and "b" separately.
    await expectStream("data: a\r\ndata: b\r\n\r\n", [ev("a\nb")]);
  });

  it("strips one leading BOM, and only one", async () => {
    await expectStream("\uFEFFdata: a\n\n", [ev("a")]);
    // A second BOM belongs to the field name, which is then unknown and ignored.
    await expectStream("\uFEFF\uFEFFdata: a\n\ndata: b\n\n", [ev("b")]);
    await expectStream("data: a\n\n\uFEFFdata: b\n\n", [ev("a")]);
  });

  it("decodes UTF-8 split across chunks (every split is tried) and replaces invalid bytes with U+FFFD", async () => {
    await expectStream("data: héllo wörld — 日本語 🦙\n\n", [ev("héllo wörld — 日本語 🦙")]);
    const invalid = Uint8Array.of(...utf8("data: a"), 0xff, 0xc3, ...utf8("b\n\n"));
    await expectStream(invalid, [ev("a\uFFFD\uFFFDb")]);
  });

  it("hands comment lines to onComment and never dispatches them", async () => {
    await expectStream(": keep-alive\n:no space\n:\n\ndata: x\n\n", [ev("x")], { comments: ["keep-alive", "no space", ""] });
  });

  it("removes exactly one leading space from a value", async () => {
    await expectStream("data:no space\n\ndata:  two spaces\n\ndata:\ttab\n\n", [ev("no space"), ev(" two spaces"), ev("\ttab")]);
  });

  it("keeps colons inside a value", async () => {
    await expectStream('data: {"a":"b:c"}\n\n', [ev('{"a":"b:c"}')]);
  });

  it("treats a line without a colon as a field with an empty value", async () => {
    await expectStream("data\ndata\n\n", [ev("\n")]);
    await expectStream("data\n\n", [ev("")]);
  });
});

describe("interpreting an event stream", () => {
  it("joins multi-line data with LF and removes only the final LF", async () => {
    await expectStream("data: a\ndata: b\ndata:\n\n", [ev("a\nb\n")]);
  });

  it("dispatches an empty data field, but nothing for a block without data", async () => {
    await expectStream("data:\n\n", [ev("")]);
    await expectStream("event: ping\n\n\n\ndata: x\n\n", [ev("x")]);
  });

  it("uses the event field as the type, resets it after each dispatch, and defaults to message", async () => {
    await expectStream("event: delta\ndata: a\n\ndata: b\n\nevent:\ndata: c\n\n", [ev("a", { event: "delta" }), ev("b"), ev("c")]);
  });

  it("keeps the last event ID across events and resets it with an empty id", async () => {
    await expectStream("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", [ev("a", { id: "7" }), ev("b", { id: "7" }), ev("c")]);
  });

  it("sets the last event ID from a block that dispatches nothing", async () => {
    await expectStream("id: 42\n\ndata: x\n\n", [ev("x", { id: "42" })]);
  });

  it("ignores an id containing NULL", async () => {
    await expectStream("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n", [ev("a", { id: "1" }), ev("b", { id: "1" })]);
  });

  it("accepts retry only when it is all ASCII digits", async () => {
    await expectStream(
      "retry: 1500\ndata: a\n\nretry: 10x\ndata: b\n\nretry: -1\nretry:\nretry: 1.5\nretry: ３\ndata: c\n\nretry:0\ndata: d\n\n",
      [ev("a", { retry: 1500 }), ev("b"), ev("c"), ev("d", { retry: 0 })],
      { retries: [1500, 0] },
    );
  });

  it("ignores unknown fields, and field names are case-sensitive", async () => {
    await expectStream("foo: bar\nData: no\nDATA: no\nevent : no\ndata: yes\n\n", [ev("yes")]);
  });

  it("discards an incomplete event at the end of the stream", async () => {
    await expectStream("data: a\n\ndata: b", [ev("a")]);
    await expectStream("data: a\n\ndata: b\n", [ev("a")]);
    await expectStream("data: a\n\ndata: b\r", [ev("a")]);
  });

  it("parses a DeepInfra stream with keep-alives and [DONE]", async () => {
    const chunk = '{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hé"}}]}';
    await expectStream(`: ping\n\ndata: ${chunk}\n\ndata: [DONE]\n\n`, [ev(chunk), ev("[DONE]")], { comments: ["ping"] });
  });
});

describe("createSSEParser, the callback API", () => {
  it("dispatches synchronously inside feed, and exposes the last event ID", () => {
    const seen: string[] = [];
    const parser = createSSEParser({ onEvent: (e) => seen.push(e.data) });
    parser.feed("id: 7\ndata: a");
    expect(seen).toEqual([]);
    parser.feed("\n\n");
    expect(seen).toEqual(["a"]);
    expect(parser.lastEventId).toBe("7");
  });

  it("reset() forgets a half-read event and a pending CR, but keeps the last event ID, as EventSource does", () => {
    const seen: ServerSentEvent[] = [];
    const parser = createSSEParser({ onEvent: (e) => seen.push(e) });
    parser.feed("id: 1\ndata: whole\n\nevent: half\ndata: lost\r");
    parser.reset();
    parser.feed("\ndata: b\n\n");
    expect(seen).toEqual([ev("whole", { id: "1" }), ev("b", { id: "1" })]);
  });

  it("throws SSEBufferOverflowError from feed when a line outgrows maxBufferSize", () => {
    const parser = createSSEParser({ onEvent: () => {}, maxBufferSize: 8 });
    parser.feed("data: ok\n\n");
    expect(() => parser.feed("data: far too long\n")).toThrow(expect.objectContaining({ name: "SSEBufferOverflowError" }));
  });
});
