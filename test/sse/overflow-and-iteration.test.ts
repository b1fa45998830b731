// Issue 15's two SSE bugs: the parser must stop at an overflow (nothing parsed after it until reset()), and
// parseSSE's iterator must answer next() calls made before the previous one settled, in order.
import { describe, expect, it } from "vitest";
import { createSSEParser, parseSSE, type ServerSentEvent, SSEBufferOverflowError, SSEParserStream } from "../../src/sse/index.ts";
import { streamOf } from "../helpers/chunking.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const CAP = 32;
const LONG = `data: ${"y".repeat(CAP)}`;
const INJECTED = 'data: {"injected":true}\n\n';
const DONE = { done: true, value: undefined };

/** Input cut so that text follows the overflow in the same chunk, in later chunks, or both. */
const OVERFLOWS: Array<[string, string[]]> = [
  ["the rest of the line and an event in the same chunk", [`data: ok\n\n${LONG}yyy\n${INJECTED}`]],
  ["the line's end and an event in a later chunk", ["data: ok\n\n", LONG, `yyy\n${INJECTED}`]],
  ["an event after a completed overlong line, same chunk", [`data: ok\n\n${LONG}\n\n${INJECTED}`]],
  ["an event after a completed overlong line, later chunk", [`data: ok\n\n${LONG}\n\n`, INJECTED]],
  ["a CR-ended overlong line, then events in both", [`data: ok\r\r${LONG}\r${INJECTED}`, INJECTED]],
  ["text split across several later chunks", ["data: ok\n\n", LONG, "yy", "y\nda", 'ta: {"injected":true}\n', "\n"]],
];

/**
 * A body sending `chunks`, then closing (or erroring with `end`), that notes reads and cancels. `slow`: each read
 * is answered after a macrotask, so next() calls pile up; otherwise every chunk is there at once.
 */
function bodyOf(chunks: string[], { slow = false, end }: { slow?: boolean; end?: Error } = {}) {
  const state = { cancelled: false, reads: 0 };
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        state.reads++;
        if (slow) await new Promise((resolve) => setTimeout(resolve, 1));
        if (i < chunks.length) controller.enqueue(utf8(chunks[i++]!));
        else if (end) controller.error(end);
        else controller.close();
      },
      cancel: () => void (state.cancelled = true),
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

type Settled = { value: unknown } | { error: unknown } | { done: true };

/** How each promise settled, in the order of the calls. */
function settle(promises: Array<Promise<IteratorResult<unknown>>>): Promise<Settled[]> {
  return Promise.all(
    promises.map((p) =>
      p.then(
        (r): Settled => (r.done ? { done: true } : { value: r.value }),
        (error: unknown): Settled => ({ error }),
      ),
    ),
  );
}

/** The order in which `promises` settle (indexes), which must be the order of the calls. */
async function settleOrder(promises: Array<Promise<unknown>>): Promise<number[]> {
  const order: number[] = [];
  await Promise.all(promises.map((p, i) => p.then(() => order.push(i), () => order.push(i))));
  return order;
}

const data = (r: IteratorResult<ServerSentEvent>) => (r.done ? "done" : r.value.data);
const event = (data: string): ServerSentEvent => ({ event: "message", data, id: "" });

describe("createSSEParser after an overflow", () => {
  function fed(chunks: string[]) {
    const events: string[] = [];
    const errors: unknown[] = [];
    const parser = createSSEParser({ onEvent: (e) => events.push(e.data), maxBufferSize: CAP });
    for (const chunk of chunks) {
      try {
        parser.feed(chunk);
      } catch (error) {
        errors.push(error);
      }
    }
    return { parser, events, errors };
  }

  for (const [name, chunks] of OVERFLOWS) {
    it(`dispatches nothing after the overflow and throws once: ${name}`, () => {
      const { events, errors } = fed(chunks);
      expect(events).toEqual(["ok"]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SSEBufferOverflowError);
    });
  }

  it("calls no callback after the overflow (comments, retry)", () => {
    const retries: number[] = [];
    const comments: string[] = [];
    const parser = createSSEParser({ onEvent: () => {}, onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms), maxBufferSize: CAP });
    expect(() => parser.feed(LONG)).toThrow(SSEBufferOverflowError);
    parser.feed(": hello\nretry: 5\n\n");
    expect([comments, retries]).toEqual([[], []]);
  });

  it("is usable again from a clean state after reset(), keeping the last event ID", () => {
    const events: ServerSentEvent[] = [];
    const parser = createSSEParser({ onEvent: (e) => events.push(e), maxBufferSize: CAP });
    // A half-read event (type, data, retry) before the overlong line must not leak into the next one.
    parser.feed("id: 7\n\nevent: half\nretry: 9\ndata: half\n");
    expect(() => parser.feed(LONG)).toThrow(SSEBufferOverflowError);
    parser.feed("y\ndata: lost\n\n");
    parser.reset();
    parser.feed("data: after\n\n");
    expect(events).toEqual([{ event: "message", data: "after", id: "7" }]);
    expect(parser.lastEventId).toBe("7");
  });

  it("after reset(), overflows (and stops) again", () => {
    const { parser, events, errors } = fed([LONG]);
    parser.reset();
    expect(() => parser.feed(`${LONG}\n`)).toThrow(SSEBufferOverflowError);
    parser.feed(INJECTED);
    parser.reset();
    parser.feed("data: fine\n\n");
    expect(errors).toHaveLength(1);
    expect(events).toEqual(["fine"]);
  });
});

describe("parseSSE and SSEParserStream end with the overflow", () => {
  async function iterated(chunks: string[]) {
    const { body, state } = bodyOf(chunks);
    const iterator = parseSSE(body, { maxBufferSize: CAP })[Symbol.asyncIterator]();
    const events: string[] = [];
    let error: unknown;
    for (;;) {
      const result = await iterator.next().catch((e: unknown) => void (error = e));
      if (!result || result.done) break;
      events.push(result.value.data);
    }
    const after = await Promise.all([iterator.next(), iterator.next()]);
    return { events, error, after, cancelled: state.cancelled };
  }

  for (const [name, chunks] of OVERFLOWS) {
    it(`parseSSE rejects once, yields nothing after, cancels the body: ${name}`, async () => {
      const { events, error, after, cancelled } = await iterated(chunks);
      expect(events).toEqual(["ok"]);
      expect(error).toBeInstanceOf(SSEBufferOverflowError);
      // Finished, as a generator is after throwing: done, not the error again.
      expect(after).toEqual([DONE, DONE]);
      expect(cancelled).toBe(true);
    });

    it(`SSEParserStream errors and enqueues nothing after: ${name}`, async () => {
      const reader = streamOf(chunks.map(utf8)).pipeThrough(new SSEParserStream({ maxBufferSize: CAP })).getReader();
      const events: string[] = [];
      let error: unknown;
      for (;;) {
        const result = await reader.read().catch((e: unknown) => void (error = e));
        if (!result || result.done) break;
        events.push(result.value.data);
      }
      expect(error).toBeInstanceOf(SSEBufferOverflowError);
      // Erroring a stream drops what it had queued: "ok" is there only if it was read before the overflow.
      expect(events.filter((d) => d !== "ok")).toEqual([]);
      await expect(reader.read()).rejects.toBeInstanceOf(SSEBufferOverflowError);
    });
  }
});

describe("parseSSE with next() calls in flight", () => {
  const EVENTS_1_TO_4: string[][] = [
    ["data: 1\n\n", "data: 2\n\n", "data: 3\n\n", "data: 4\n\n"],
    ["data: 1\n\ndata: 2\n\n", "data: 3\n\ndata: 4\n\n"],
    ["data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n"],
    ["data: 1\n", "\ndata: 2\n\ndata: 3", "\n\ndata: 4\n", "\n"],
  ];

  for (const chunks of EVENTS_1_TO_4) {
    for (const slow of [false, true]) {
      const name = `${JSON.stringify(chunks)}, ${slow ? "one read per macrotask" : "all there at once"}`;

      it(`answers five calls made at once on events 1-4 in order: 1, 2, 3, 4, done (${name})`, async () => {
        const iterator = parseSSE(bodyOf(chunks, { slow }).body)[Symbol.asyncIterator]();
        const calls = Array.from({ length: 5 }, () => iterator.next());
        expect((await Promise.all(calls)).map(data)).toEqual(["1", "2", "3", "4", "done"]);
        expect(await settleOrder(calls)).toEqual([0, 1, 2, 3, 4]);
      });

      it(`on an error settles pending calls as an async generator does: the first rejects, later ones are done (${name})`, async () => {
        const failure = new Error("connection reset");
        async function* oracle() {
          for (const value of ["1", "2", "3", "4"]) {
            if (slow) await new Promise((resolve) => setTimeout(resolve, 1));
            yield event(value);
          }
          throw failure;
        }
        const generator = oracle();
        const expected = await settle(Array.from({ length: 7 }, () => generator.next()));
        const expectedAfter = await settle([generator.next()]);
        expect(expected).toEqual([...["1", "2", "3", "4"].map((d) => ({ value: event(d) })), { error: failure }, { done: true }, { done: true }]);
        expect(expectedAfter).toEqual([{ done: true }]);

        const iterator = parseSSE(bodyOf(chunks, { slow, end: failure }).body)[Symbol.asyncIterator]();
        const calls = Array.from({ length: 7 }, () => iterator.next());
        expect(await settle(calls)).toEqual(expected);
        expect(await settleOrder(calls)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        expect(await settle([iterator.next()])).toEqual(expectedAfter);
      });
    }
  }

  it("gives an event already parsed to the first of the calls that pile up, not to a later one", async () => {
    const { body } = bodyOf(["data: 1\n\ndata: 2\n\n", "data: 3\n\ndata: 4\n\ndata: 5\n\n", "data: 6\n\n"], { slow: true });
    const iterator = parseSSE(body)[Symbol.asyncIterator]();
    const first = await iterator.next();
    const calls = Array.from({ length: 7 }, () => iterator.next());
    expect([first, ...(await Promise.all(calls))].map(data)).toEqual(["1", "2", "3", "4", "5", "6", "done", "done"]);
  });

  it("reads the body once per chunk however many calls wait", async () => {
    const { body, state } = bodyOf(["data: 1\n\ndata: 2\n\ndata: 3\n\n"], { slow: true });
    const iterator = parseSSE(body)[Symbol.asyncIterator]();
    await Promise.all(Array.from({ length: 4 }, () => iterator.next()));
    // One read for the chunk, one that finds the end.
    expect(state.reads).toBe(2);
  });

  it("on an overflow settles pending calls the same way, after the events before it, and cancels the body", async () => {
    const { body, state } = bodyOf(["data: 1\n\n", `data: 2\n\n${LONG}`, `y\n${INJECTED}`], { slow: true });
    const iterator = parseSSE(body, { maxBufferSize: CAP })[Symbol.asyncIterator]();
    const settled = await settle(Array.from({ length: 5 }, () => iterator.next()));
    expect(settled).toEqual([{ value: event("1") }, { value: event("2") }, { error: expect.any(SSEBufferOverflowError) }, { done: true }, { done: true }]);
    expect(state.cancelled).toBe(true);
  });

  it("return() while calls are pending settles them as done, in order, and cancels the body", async () => {
    // Never answers a read: only the cancel can settle the pending calls.
    let cancelled = false;
    const silent = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}), cancel: () => void (cancelled = true) });
    const iterator = parseSSE(silent)[Symbol.asyncIterator]();
    const all = [iterator.next(), iterator.next(), iterator.next(), iterator.return!()];
    expect(await Promise.all(all)).toEqual([DONE, DONE, DONE, DONE]);
    expect(await settleOrder(all)).toEqual([0, 1, 2, 3]);
    expect(cancelled).toBe(true);
    expect(await iterator.next()).toEqual(DONE);
  });

  it("return() drops the events parsed but not yet taken", async () => {
    const { body, state } = bodyOf(["data: 1\n\ndata: 2\n\ndata: 3\n\n", "data: 4\n\n"]);
    const iterator = parseSSE(body)[Symbol.asyncIterator]();
    expect(data(await iterator.next())).toBe("1");
    expect(await iterator.return!()).toEqual(DONE);
    expect(state.cancelled).toBe(true);
    expect(await iterator.next()).toEqual(DONE);
  });

  it("an abort settles pending calls like an error: the first rejects with the reason, later ones are done", async () => {
    const silent = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const controller = new AbortController();
    const reason = new Error("stop");
    const iterator = parseSSE(silent, { signal: controller.signal })[Symbol.asyncIterator]();
    const calls = [iterator.next(), iterator.next(), iterator.next()];
    controller.abort(reason);
    expect(await settle(calls)).toEqual([{ error: reason }, { done: true }, { done: true }]);
  });
});
