import llama3Tokenizer from "llama3-tokenizer-js";
import { describe, expect, it } from "vitest";
import { countTokensLlama3 } from "../../src/tokens/llama3.ts";

describe("countTokensLlama3", () => {
  it("counts content tokens only: no begin-of-text or end-of-text", () => {
    expect(countTokensLlama3("")).toBe(0);
    expect(countTokensLlama3("hello world")).toBe(2);
    const text = "The quick brown fox jumps over the lazy dog.";
    expect(countTokensLlama3(text)).toBe(llama3Tokenizer.encode(text).length - 2);
  });

  it("matches the Llama 3 tokenizer on known inputs", () => {
    // Llama 3 splits digits into groups of up to three; CJK and emoji are byte-level BPE.
    expect(countTokensLlama3("1234567")).toBe(3);
    expect(countTokensLlama3("😀")).toBe(2);
    expect(countTokensLlama3(" 😀")).toBe(1);
    expect(countTokensLlama3("中文")).toBe(1);
    for (const text of ["getElementById", "Привет, мир", "\n\n\n", "\ud800x"]) {
      expect(countTokensLlama3(text), text).toBe(llama3Tokenizer.encode(text, { bos: false, eos: false }).length);
    }
  });

  it("is additive over text split at a space before a word (a pre-token boundary)", () => {
    const left = "Streaming chat with vision models";
    const right = " in browsers, Deno and Cloudflare Workers.";
    expect(countTokensLlama3(left + right)).toBe(countTokensLlama3(left) + countTokensLlama3(right));
  });

  it("counts a single unbroken run too long for llama3-tokenizer-js's stack, in pieces", { timeout: 60_000 }, () => {
    // 40K distinct rare CJK characters, no punctuation: one pre-token of ~160K tokens, on which
    // llama3-tokenizer-js 1.2.0's encode throws RangeError (Maximum call stack size exceeded).
    const text = Array.from({ length: 40_000 }, (_, i) => String.fromCodePoint(0x20000 + i)).join("");
    const n = countTokensLlama3(text);
    expect(n).toBeGreaterThan(100_000);
    expect(n).toBeLessThan(4 * 40_000 + 100);
  });
});
