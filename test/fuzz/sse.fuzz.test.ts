// Fuzzing the SSE parser: random byte streams in random chunkings, compared with a slow reference
// written straight from the WHATWG text. Never an untyped exception, never more than maxBufferSize held.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSSEParser, parseSSE, type ServerSentEvent, SSEBufferOverflowError } from "../../src/sse/index.ts";
import { concatBytes, splitAt, streamOf } from "../helpers/chunking.ts";

interface Outcome {
  events: ServerSentEvent[];
  comments: string[];
  error?: string;
}

/** The standard's algorithm, done the obvious way on the whole input at once. */
function reference(bytes: Uint8Array): Outcome {
  const text = new TextDecoder().decode(bytes); // strips one BOM, replaces invalid bytes
  const out: Outcome = { events: [], comments: [] };
  let data: string[] | undefined;
  let type = "";
  let id = "";
  let retry: number | undefined;
  let i = 0;
  while (i < text.length) {
    let end = i;
    while (end < text.length && text[end] !== "\r" && text[end] !== "\n") end++;
    if (end === text.length) break; // an unterminated last line is never processed
    const line = text.slice(i, end);
    i = text[end] === "\r" && text[end + 1] === "\n" ? end + 2 : end + 1;
    if (line === "") {
      if (data !== undefined) {
        const event: ServerSentEvent = { event: type || "message", data: data.join("\n"), id };
        if (retry !== undefined) event.retry = retry;
        out.events.push(event);
      }
      data = undefined;
      type = "";
      retry = undefined;
      continue;
    }
    if (line.startsWith(":")) {
      out.comments.push(line.slice(line.startsWith(": ") ? 2 : 1));
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") (data ??= []).push(value);
    else if (field === "event") type = value;
    else if (field === "id" && !value.includes("\0")) id = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) retry = Number(value);
  }
  return out;
}

async function run(chunks: Uint8Array[], maxBufferSize?: number): Promise<Outcome> {
  const out: Outcome = { events: [], comments: [] };
  try {
    for await (const event of parseSSE(streamOf(chunks), { onComment: (c) => out.comments.push(c), ...(maxBufferSize && { maxBufferSize }) })) out.events.push(event);
  } catch (error) {
    // Only the typed overflow error may ever come out of the parser.
    if (!(error instanceof SSEBufferOverflowError)) throw error;
    out.error = error.name;
  }
  return out;
}

/**
 * The callback API on the decoded text, cut at `cuts` (text positions: between CR and LF, inside surrogate pairs).
 * Text goes on being fed after an overflow, as a careless caller would: the parser must ignore it.
 */
function runCallback(bytes: Uint8Array, cuts: number[], maxBufferSize?: number): Outcome {
  const out: Outcome = { events: [], comments: [] };
  const parser = createSSEParser({ onEvent: (e) => out.events.push(e), onComment: (c) => out.comments.push(c), ...(maxBufferSize && { maxBufferSize }) });
  const text = new TextDecoder().decode(bytes);
  let from = 0;
  for (const cut of [...cuts.filter((c) => c < text.length), text.length].sort((a, b) => a - b)) {
    try {
      parser.feed(text.slice(from, cut));
    } catch (error) {
      if (!(error instanceof SSEBufferOverflowError)) throw error;
      // A second overflow error would mean the parser went on parsing after the first.
      expect(out.error).toBeUndefined();
      out.error = error.name;
    }
    from = cut;
  }
  return out;
}

const encoder = new TextEncoder();
/** Bytes biased towards SSE syntax: field names, separators, line ends, BOMs, multi-byte and invalid UTF-8. */
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("data:", "data: ", "data", "event:", "id:", "id: ", "retry:", ": ", ":", "\n", "\r", "\r\n", "\n\n", " ", "x", "[DONE]", '{"a":1}', "\uFEFF", "é", "日本", "🦙", "\0", "12", "ping") },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }) },
);
const bytes = fc.array(token, { maxLength: 60 }).map((tokens) => concatBytes(tokens.map((t) => (typeof t === "string" ? encoder.encode(t) : t))));
const withCuts = bytes.chain((b) => fc.tuple(fc.constant(b), fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, b.length - 1) }), { maxLength: 12 })));

describe("SSE parser fuzzing", () => {
  it("matches the reference algorithm for any bytes in any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(withCuts, async ([input, cuts]) => {
        const expected = reference(input);
        expect(await run([input])).toEqual(expected);
        expect(await run(splitAt(input, cuts.filter((c) => c < input.length)))).toEqual(expected);
        expect(runCallback(input, cuts)).toEqual(expected);
      }),
      { numRuns: 1500, seed: 424242 },
    );
  });

  it("under a buffer cap, gives the same result for every chunking and only ever the typed overflow error", async () => {
    await fc.assert(
      fc.asyncProperty(withCuts, fc.integer({ min: 1, max: 24 }), async ([input, cuts], cap) => {
        const whole = await run([input], cap);
        const split = await run(splitAt(input, cuts.filter((c) => c < input.length)), cap);
        const bytewise = await run(Array.from(input, (b) => Uint8Array.of(b)), cap);
        expect(split).toEqual(whole);
        expect(bytewise).toEqual(whole);
        expect(runCallback(input, cuts, cap)).toEqual(whole);
        if (!whole.error) expect(whole).toEqual(reference(input));
      }),
      { numRuns: 800, seed: 99 },
    );
  });
});
