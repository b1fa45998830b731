// Scripted upstreams for the relay's tests, on test/helpers/upstream.ts's local server (DeepInfra's format).
import { chunk, type Handler, replyEvents, sse, startSSE, wait } from "../helpers/upstream.ts";

/** A known reply: its content deltas, and its events as DeepInfra sends them (role, deltas, finish + usage, [DONE]). */
export const PARTS = ["The ", "relay ", "keeps ", "every ", "event: ", "ünïcödé ", "✓, ", "emoji 🚀 ", "and ", "all."];
export const EVENTS = replyEvents(PARTS);
/** The payloads the relay must pass through unchanged, in order. */
export const PAYLOADS = EVENTS.map((e) => e.slice("data: ".length, -2));

/** Writes each event in two halves (so the relay also meets events cut in the middle), `gap` ms between writes. */
export function paced(events: string[], gap = 3): Handler {
  return async (req, res) => {
    startSSE(res);
    let open = true;
    void req.closed.then(() => (open = false));
    for (const event of events) {
      const half = Math.floor(event.length / 2);
      for (const piece of [event.slice(0, half), event.slice(half)]) {
        if (!open) return;
        res.write(piece);
        await wait(gap);
      }
    }
    res.end();
  };
}

/** A reply that never ends by itself: a content delta every `gap` ms (with a comment now and then) until closed. */
export function endless(gap = 10): Handler {
  return async (req, res) => {
    startSSE(res);
    let open = true;
    void req.closed.then(() => (open = false));
    res.write(sse(chunk({ role: "assistant", content: "" })));
    for (let i = 1; open; i++) {
      res.write(sse(chunk({ content: `tick ${i} ` })));
      if (i % 10 === 0) res.write(": keep-alive\n\n");
      await wait(gap);
    }
  };
}

/** `count` content deltas of about `size` characters each, `gap` ms apart: a reply of a known length and duration. */
export function long(count: number, size: number, gap: number): { handler: Handler; text: string } {
  const parts = Array.from({ length: count }, (_, i) => `${"x".repeat(Math.max(0, size - String(i).length - 1))}${i} `);
  const events = replyEvents(parts);
  return {
    text: parts.join(""),
    handler: async (req, res) => {
      startSSE(res);
      let open = true;
      void req.closed.then(() => (open = false));
      for (const event of events) {
        if (!open) return;
        res.write(event);
        await wait(gap);
      }
      res.end();
    },
  };
}
