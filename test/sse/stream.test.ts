import { describe, expect, it } from "vitest";
import { parseSSE, SSEBufferOverflowError, SSEParserStream } from "../../src/sse/index.ts";
import { randomChunks, rng, streamOf } from "../helpers/chunking.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

async function collect(body: ReadableStream<Uint8Array>, options = {}) {
  const events = [];
  for await (const event of parseSSE(body, options)) events.push(event);
  return events;
}

describe("parseSSE on long and hostile input", () => {
  it("parses a 4 MB line that arrives in 1-7 byte pieces", async () => {
    const big = "x".repeat(4 * 1024 * 1024);
    const bytes = utf8(`data: ${big}\n\ndata: after\n\n`);
    // Large pieces keep the test quick; the parser only ever sees small appends to one pending line.
    const chunks = randomChunks(bytes, rng(3), 4096);
    const events = await collect(streamOf(chunks));
    expect(events.map((e) => e.data.length)).toEqual([big.length, 5]);
  });

  it("fails with SSEBufferOverflowError when one line grows beyond maxBufferSize, whatever the chunking", async () => {
    const bytes = utf8(`data: ok\n\ndata: ${"y".repeat(2000)}\n\n`);
    for (const chunks of [[bytes], randomChunks(bytes, rng(1), 50), Array.from(bytes, (b) => Uint8Array.of(b))]) {
      const seen: string[] = [];
      const error = await (async () => {
        for await (const event of parseSSE(streamOf(chunks), { maxBufferSize: 1000 })) seen.push(event.data);
      })().catch((e) => e);
      expect(error).toBeInstanceOf(SSEBufferOverflowError);
      expect(error.message).toMatch(/maxBufferSize \(1000/);
      // Events completed before the long line are still delivered.
      expect(seen).toEqual(["ok"]);
    }
  });

  it("caps a line that never ends (no line break at all)", async () => {
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1024;
        controller.enqueue(utf8("z".repeat(1024)));
      },
    });
    await expect(collect(endless, { maxBufferSize: 64 * 1024 })).rejects.toBeInstanceOf(SSEBufferOverflowError);
    expect(sent).toBeLessThan(80 * 1024);
  });

  it("errors the SSEParserStream on an overlong line", async () => {
    const reader = streamOf([utf8(`data: ${"y".repeat(300)}\n\n`)]).pipeThrough(new SSEParserStream({ maxBufferSize: 100 })).getReader();
    await expect(reader.read()).rejects.toBeInstanceOf(SSEBufferOverflowError);
  });
});

describe("parseSSE cancellation", () => {
  function endlessEvents() {
    const state = { cancelled: false, reason: undefined as unknown };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(utf8("data: tick\n\n"));
      },
      cancel(reason) {
        state.cancelled = true;
        state.reason = reason;
      },
    });
    return { body, state };
  }

  it("cancels the body when the loop is left with break", async () => {
    const { body, state } = endlessEvents();
    let n = 0;
    for await (const _ of parseSSE(body)) if (++n === 3) break;
    expect(state.cancelled).toBe(true);
  });

  it("rejects with the signal's reason and cancels the body on abort", async () => {
    const { body, state } = endlessEvents();
    const controller = new AbortController();
    const reason = new Error("stop now");
    let n = 0;
    const run = (async () => {
      for await (const _ of parseSSE(body, { signal: controller.signal })) if (++n === 5) controller.abort(reason);
    })();
    await expect(run).rejects.toBe(reason);
    expect(state.cancelled).toBe(true);
  });

  it("does not start when the signal is already aborted", async () => {
    const { body } = endlessEvents();
    const controller = new AbortController();
    controller.abort(new Error("early"));
    await expect(collect(body, { signal: controller.signal })).rejects.toThrow("early");
    expect(body.locked).toBe(false);
  });

  it("aborts a read that is waiting for the network", async () => {
    let cancelled = false;
    const silent = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}), cancel: () => void (cancelled = true) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("timeout")), 20);
    await expect(collect(silent, { signal: controller.signal })).rejects.toThrow("timeout");
    expect(cancelled).toBe(true);
  });
});
