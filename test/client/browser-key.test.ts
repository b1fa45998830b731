// @vitest-environment happy-dom
// A page context (document exists): a raw key is refused unless explicitly allowed.
import { describe, expect, it } from "vitest";
import { BrowserKeyError, createClient } from "../../src/index.ts";

describe("API keys in browser code", () => {
  it("refuses an apiKey in a page, explaining the proxy pattern", () => {
    expect(typeof document).toBe("object");
    let error: unknown;
    try {
      createClient({ apiKey: "di-secret-key-0123456789" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BrowserKeyError);
    expect((error as Error).message).toMatch(/baseURL/);
    expect((error as Error).message).toMatch(/dangerouslyAllowBrowser: true/);
    expect((error as Error).message).not.toContain("di-secret-key-0123456789");
  });

  it("allows it with dangerouslyAllowBrowser, and allows no key at all (proxy mode)", () => {
    expect(() => createClient({ apiKey: "di-secret-key-0123456789", dangerouslyAllowBrowser: true })).not.toThrow();
    expect(() => createClient({ baseURL: "https://proxy.example/v1/openai" })).not.toThrow();
  });
});
