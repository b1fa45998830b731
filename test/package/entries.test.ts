// What each entry exports at run time, where the types cannot tell (etc/api.md lists the rest).
import { expect, it } from "vitest";
import * as root from "../../src/index.ts";
import * as sse from "../../src/sse/index.ts";
import * as idb from "../../src/store/idb/index.ts";

it("SSEBufferOverflowError is one class, from edgechat (a ChatStream throws it) and edgechat/sse (the parser does)", () => {
  expect(sse.SSEBufferOverflowError).toBe(root.SSEBufferOverflowError);
});

it("ChatStream and Reply are types only; toSSEStream is the value that re-encodes a stream", () => {
  expect("ChatStream" in root).toBe(false);
  expect("Reply" in root).toBe(false);
  expect(typeof root.toSSEStream).toBe("function");
});

it("no entry has a default export", () => {
  for (const entry of [root, sse, idb]) expect("default" in entry).toBe(false);
});
