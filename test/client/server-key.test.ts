// Node (no document, no importScripts): a server runtime, where a key is expected.
import { expect, it } from "vitest";
import { createClient } from "../../src/index.ts";

it("accepts an apiKey outside the browser without any opt-in", () => {
  expect(typeof (globalThis as { document?: unknown }).document).toBe("undefined");
  expect(() => createClient({ apiKey: "di-secret-key-0123456789" })).not.toThrow();
});
