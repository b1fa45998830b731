// The faults the chaos upstream can inject, and what the SDK must make of each.
import type { ServerResponse } from "node:http";
import { chunk, sse, startSSE, usage } from "../helpers/upstream.ts";

export type Fault =
  | "ok"
  | "drop-before-headers"
  | "drop-mid-event"
  | "drop-mid-char"
  | "drop-before-finish"
  | "clean-close-before-finish"
  | "stall"
  | "keepalive-forever"
  | "malformed-utf8"
  | "malformed-json"
  | "wrong-type"
  | "status-429"
  | "status-429-no-hint"
  | "status-500"
  | "status-502"
  | "status-503"
  | "huge-error-body"
  | "error-event";

/** Relative frequencies: mostly healthy, every fault often enough to be seen many times in 1,000 turns. */
export const WEIGHTS: Record<Fault, number> = {
  ok: 40,
  "drop-before-headers": 4,
  "drop-mid-event": 4,
  "drop-mid-char": 4,
  "drop-before-finish": 3,
  "clean-close-before-finish": 3,
  stall: 3,
  "keepalive-forever": 2,
  "malformed-utf8": 3,
  "malformed-json": 3,
  "wrong-type": 3,
  "status-429": 5,
  "status-429-no-hint": 1,
  "status-500": 4,
  "status-502": 3,
  "status-503": 3,
  "huge-error-body": 2,
  "error-event": 3,
};

/** The error class a turn must end with when this fault is the last one it met (undefined: it must complete). */
export const EXPECTED_ERROR: Record<Fault, string | undefined> = {
  ok: undefined,
  "malformed-utf8": undefined, // invalid bytes become U+FFFD: still a complete reply
  "drop-before-headers": "ConnectionError",
  "drop-mid-event": "StreamInterruptedError",
  "drop-mid-char": "StreamInterruptedError",
  "drop-before-finish": "StreamInterruptedError",
  "clean-close-before-finish": "StreamInterruptedError",
  stall: "TimeoutError",
  "keepalive-forever": "TimeoutError",
  "malformed-json": "ValidationError",
  "wrong-type": "ValidationError",
  "status-429": "RateLimitError",
  "status-429-no-hint": "RateLimitError",
  "status-500": "InternalServerError",
  "status-502": "InternalServerError",
  "status-503": "InternalServerError",
  "huge-error-body": "InternalServerError",
  "error-event": "InternalServerError",
};

/** Faults the client retries (before any body): a later attempt may still complete the turn. */
export const RETRIED = new Set<Fault>(["drop-before-headers", "status-429", "status-429-no-hint", "status-500", "status-502", "status-503", "huge-error-body"]);

export interface Sent {
  fault: Fault;
  /** The turn the client said the request belongs to (x-chaos-turn), or -1. */
  turn?: number;
  /** The content the server streamed in full (what a complete reply must equal). */
  text: string;
  /** The contents of the messages the request carried. */
  messages?: string[];
  /** When the server had written all it would write of this reply (Date.now()). */
  endedAt?: number;
}

const pieces = ["Hello", " wörld", ", ", "日本語", " 🦙", " llama", "s", " — ", "ok", " \u00e9t\u00e9", "\n", "1", "2"];

/**
 * Write one reply with this fault into `record` (its text is set before anything is written, so a client
 * that gives up early can still be checked against it). `random` is the request's own seeded generator.
 * `paceMs`: a pause before each content delta (0: all at once), so a relay in front still streams when it is read.
 */
export async function respond(record: Sent, res: ServerResponse, random: () => number, closed: Promise<void>, stallMs: number, paceMs = 0): Promise<void> {
  const fault = record.fault;
  const n = 1 + Math.floor(random() * 8);
  const parts = Array.from({ length: n }, () => pieces[Math.floor(random() * pieces.length)]!);
  const text = parts.join("");
  record.text = fault === "malformed-utf8" ? `${text}\uFFFD\uFFFD` : text;
  const done = { value: false };
  void closed.then(() => (done.value = true));
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const write = (s: string) => !done.value && res.write(s);
  const content = async () => {
    startSSE(res);
    write(sse(chunk({ role: "assistant", content: "" })));
    for (const p of parts) {
      if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
      write(sse(chunk({ content: p })));
    }
  };
  const finish = () => {
    write(sse(chunk({ content: "" }, { finish_reason: "stop", usage: usage(10 + n, n, (10 + n) * 1e-7) })));
    if (!done.value) res.end(sse("[DONE]"));
  };
  const drop = () => res.socket?.destroy();
  switch (fault) {
    case "ok":
      await content();
      finish();
      break;
    case "malformed-utf8": {
      startSSE(res);
      write(sse(chunk({ role: "assistant", content: "" })));
      for (const p of parts) write(sse(chunk({ content: p })));
      // A content delta whose JSON string holds bytes that are not UTF-8.
      const bad = Buffer.concat([Buffer.from('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"},"finish_reason":null}]}\n\n')]);
      if (!done.value) res.write(bad);
      finish();
      break;
    }
    case "drop-before-headers":
      drop();
      break;
    case "drop-mid-event":
      await content();
      write('data: {"id":"c","object":"chat.completion.chunk","cre');
      await new Promise((r) => setTimeout(r, 5));
      drop();
      break;
    case "drop-mid-char": {
      await content();
      const event = Buffer.from(sse(chunk({ content: "日本" })));
      const cut = event.indexOf(Buffer.from("日")) + 1;
      if (!done.value) res.write(event.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 5));
      drop();
      break;
    }
    case "drop-before-finish":
      await content();
      await new Promise((r) => setTimeout(r, 5));
      drop();
      break;
    case "clean-close-before-finish":
      await content();
      res.end();
      break;
    case "stall":
      await content();
      await Promise.race([closed, new Promise((r) => setTimeout(r, stallMs))]);
      drop();
      break;
    case "keepalive-forever":
      await content();
      for (let i = 0; !done.value && i < 200; i++) {
        write(": keep-alive\n\n");
        await new Promise((r) => setTimeout(r, 20));
      }
      drop();
      break;
    case "malformed-json":
      await content();
      write(sse('{"id":"c","choices":[{"index":0,"delta":{"content":"x"}'));
      finish();
      break;
    case "wrong-type":
      await content();
      write(sse(chunk({ content: 42 })));
      finish();
      break;
    case "status-429":
      json(429, { detail: "Rate limited" }, { "retry-after-ms": String(1 + Math.floor(random() * 20)) });
      break;
    case "status-429-no-hint":
      json(429, { detail: "Rate limited" });
      break;
    case "status-500":
      json(500, { error: { message: "Internal error" } }, { "retry-after": "0" });
      break;
    case "status-502":
      json(502, "<html><body>Bad gateway</body></html>", { "retry-after-ms": "3" });
      break;
    case "status-503":
      json(503, { detail: "Model is loading" }, { "retry-after-ms": "7" });
      break;
    case "huge-error-body":
      json(500, { error: { message: "x".repeat(5 * 1024 * 1024) } }, { "retry-after-ms": "1" });
      break;
    case "error-event":
      await content();
      write(sse({ error: { message: "generation failed", code: 500 } }));
      if (!done.value) res.end();
      break;
  }
  record.endedAt = Date.now();
}
