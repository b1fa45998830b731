// The simulated model's pure parts, in Node: pacing, token pieces, tiles, prices, commands.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../demo/worker/simulated/commands.ts";
import { pacedStream } from "../../demo/worker/simulated/pace.ts";
import { estimatedCost } from "../../demo/worker/simulated/pricing.ts";
import { tilesFor, toTokens } from "../../demo/worker/simulated/tokens.ts";

async function readAll(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const reads: { at: number; text: string }[] = [];
  const start = Date.now();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return reads;
    reads.push({ at: Date.now() - start, text: decoder.decode(value) });
  }
}

describe("pacedStream", () => {
  it("sends tokens one interval apart and bookkeeping events right after", async () => {
    const events = [{ data: "role;", token: false }, ...Array.from({ length: 10 }, (_, i) => ({ data: `t${i};`, token: true })), { data: "done;", token: false }];
    const reads = await readAll(pacedStream(events, 50));
    expect(reads.map((r) => r.text).join("")).toBe(events.map((e) => e.data).join(""));
    expect(reads[0]!.text).toBe("role;");
    expect(reads.at(-1)!.text.endsWith("t9;done;")).toBe(true);
    // 10 tokens at 50/s: the last is due at 200 ms (timers may fire late, never early).
    expect(reads.at(-1)!.at).toBeGreaterThanOrEqual(195);
    expect(reads.at(-1)!.at).toBeLessThan(5000);
    expect(reads.length).toBeGreaterThan(2);
  });

  it("sends everything due at once when the pace is fast, and stops waiting when cancelled", async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({ data: `${i},`, token: true }));
    const fast = await readAll(pacedStream(events, 1e7));
    expect(fast.length).toBeLessThan(20);

    const reader = pacedStream(events, 1).getReader();
    const started = Date.now();
    const pending = reader.read(); // due in 1 s
    await reader.cancel();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe("token pieces", () => {
  it("join back to the exact text, whatever the text", () => {
    const pieces = ["a", "Zé", " ", "  ", "\n", "\t", "\u00a0", "7", "123", "*", ".**", "`", "😀", "e\u0301", "\ud800", "中文"];
    const text = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((parts) => parts.join(""));
    fc.assert(fc.property(text, (s) => toTokens(s).join("") === s), { numRuns: 500 });
    expect(toTokens("**Simulated reply.** No 12345 ünïcödé")).toEqual(["**", "Simulated", " reply", ".**", " No", " 123", "45", " ünïcödé"]);
  });
});

describe("tiles (Llama 3.2 Vision's canvas choice, at most 4 tiles of 560 px)", () => {
  it.each([
    [64, 48, 1],
    [560, 560, 1],
    [561, 560, 2],
    [1120, 1120, 4],
    [1200, 500, 3],
    [800, 600, 4],
    [4000, 100, 4],
    [100, 1500, 3],
    [6000, 6000, 4],
  ])("%i × %i → %i", (w, h, tiles) => expect(tilesFor(w, h)).toBe(tiles));
});

describe("prices and commands", () => {
  it("uses the stated per-million prices", () => {
    expect(estimatedCost("meta-llama/Llama-3.2-90B-Vision-Instruct", 1e6, 0)).toBe(0.35);
    expect(estimatedCost("meta-llama/Llama-3.2-90B-Vision-Instruct", 0, 1e6)).toBe(0.4);
    expect(estimatedCost("meta-llama/Llama-3.2-11B-Vision-Instruct", 1e6, 1e6)).toBe(0.098);
  });

  it("parses commands at the start of a message only", () => {
    expect(parseCommand("  /RateLimit 3 please")).toEqual({ name: "/ratelimit", args: ["3", "please"], known: true });
    expect(parseCommand("/nope")).toEqual({ name: "/nope", args: [], known: false });
    expect(parseCommand("say /help")).toBeUndefined();
    expect(parseCommand("/path/to/file is a path")).toBeUndefined();
  });
});
