// What crosses the Durable Object RPC boundary is checked, not cast: a reply of the wrong shape (an object of another
// version, a stub that is not a store) is a StorageError naming the method, never a value of the wrong type.
import { describe, expect, it } from "vitest";
import { connectDurableObjectStore, type ConversationStoreStub } from "../../../src/store/durable-object/rpc.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import { guardStore } from "../../../src/store/guard.ts";
import { createMemoryStore } from "../../../src/store/memory.ts";

const stubAnswering = (reply: unknown): ConversationStoreStub => ({
  conversationStore: async () => reply,
  conversationLock: async () => undefined,
});

describe("connectDurableObjectStore checks every reply", () => {
  it("a value of the wrong shape for its method is a StorageError", async () => {
    const cases: [string, () => Promise<unknown>, unknown][] = [
      ["list", () => connectDurableObjectStore(stubAnswering({ ok: true, value: { conversations: "no" } })).list(), "list()"],
      ["get", () => connectDurableObjectStore(stubAnswering({ ok: true, value: 42 })).get("c"), "get()"],
      ["loadMessages", () => connectDurableObjectStore(stubAnswering({ ok: true, value: { messages: [{ id: 1 }] } })).loadMessages("c"), "loadMessages()"],
      ["switchTo", () => connectDurableObjectStore(stubAnswering({ ok: true, value: { id: "m" } })).switchTo("c", "m"), "switchTo()"],
      ["rename", () => connectDurableObjectStore(stubAnswering({ ok: true, value: "surprise" })).rename("c", "t"), "rename()"],
      ["envelope", () => connectDurableObjectStore(stubAnswering("not a reply")).get("c"), "not a store reply"],
      ["error envelope", () => connectDurableObjectStore(stubAnswering({ ok: false, error: "boom" })).get("c"), "not a store reply"],
    ];
    for (const [what, run, words] of cases) {
      const error = await run().then(() => undefined, (e: unknown) => e);
      expect(error, what).toBeInstanceOf(StorageError);
      expect(String(error), what).toContain(String(words));
    }
  });

  it("well-formed replies pass, errors come back as their classes", async () => {
    const meta = { id: "c", updatedAt: 1, title: "", model: "m", createdAt: 1, messageCount: 0, usage: { promptTokens: 0, completionTokens: 0, cost: 0 } };
    expect(await connectDurableObjectStore(stubAnswering({ ok: true, value: meta })).get("c")).toEqual(meta);
    expect(await connectDurableObjectStore(stubAnswering({ ok: true, value: undefined })).get("c")).toBeUndefined();
    await expect(connectDurableObjectStore(stubAnswering({ ok: true, value: null })).get("c")).rejects.toBeInstanceOf(StorageError);
    expect(await connectDurableObjectStore(stubAnswering({ ok: true, value: "leaf" })).switchTo("c", "m")).toBe("leaf");
    const missing = connectDurableObjectStore(stubAnswering({ ok: false, error: { kind: "ConversationNotFoundError", message: "x", id: "c" } })).get("c");
    await expect(missing).rejects.toBeInstanceOf(ConversationNotFoundError);
  });
});

describe("guardStore", () => {
  it("keeps the store's own type and sync methods; converts foreign errors, lets edgechat's and RangeError through", async () => {
    const inner = createMemoryStore();
    const store = guardStore({ ...inner, close: () => "closed", fail: async () => Promise.reject(new TypeError("disk")) }, (e) => new StorageError(String(e)));
    expect(store.close()).toBe("closed"); // not turned into a promise
    expect(typeof store.onChange!(() => {})).toBe("function");
    await expect(store.fail()).rejects.toBeInstanceOf(StorageError);
    await expect(store.rename("nope", "t")).rejects.toBeInstanceOf(ConversationNotFoundError);
    await expect(store.loadMessages("nope", { limit: -1 })).rejects.toBeInstanceOf(RangeError);
  });
});
