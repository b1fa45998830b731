// Faults: a full disk, corrupted records, an upgrade blocked by another tab, a newer version elsewhere.
import "fake-indexeddb/auto";
import { openDB } from "idb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../../src/client/client.ts";
import { Conversation, type ConversationChange } from "../../../src/conversation/conversation.ts";
import type { Message, UserMessage } from "../../../src/messages/types.ts";
import { StorageError, StorageQuotaError } from "../../../src/store/errors.ts";
import { type CorruptRecord, DatabaseBlockedError } from "../../../src/store/idb/index.ts";
import { type Schema, v1, VERSION } from "../../../src/store/idb/schema.ts";
import { MODEL, startUpstream, streamReply, type Upstream } from "../../helpers/upstream.ts";
import { all, dbName, makeStore, pixels, raw, sha256 } from "./helpers.ts";

let k = 0;
const text = (t: string): UserMessage => ({ id: `t${k++}`, role: "user", createdAt: 1, content: t });
const photo = (data: Uint8Array): UserMessage => ({ id: `p${k++}`, role: "user", createdAt: 1, content: [{ type: "image", data, mimeType: "image/jpeg" }] });

/**
 * Make writes to one object store fail as a full disk does: "throw" — the write call itself throws a
 * QuotaExceededError DOMException; "abort" — the write is accepted, then the transaction aborts with a
 * QuotaExceededError, as browsers report a quota hit when committing. Returns the undo.
 */
function fillDisk(mode: "throw" | "abort", storeName = "messages"): () => void {
  const proto = IDBObjectStore.prototype as unknown as Record<"add" | "put", (...args: unknown[]) => unknown>;
  const originals = { add: proto.add, put: proto.put };
  for (const method of ["add", "put"] as const) {
    proto[method] = function (this: IDBObjectStore, ...args: unknown[]) {
      if (this.name !== storeName) return originals[method].apply(this, args);
      if (mode === "throw") throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      const request = originals[method].apply(this, args);
      (this.transaction as unknown as { _abort(name: string): void })._abort("QuotaExceededError");
      return request;
    };
  }
  return () => Object.assign(proto, originals);
}

describe("IndexedDB store: a full disk", () => {
  for (const mode of ["throw", "abort"] as const) {
    it(`QuotaExceededError (${mode === "throw" ? "thrown by put" : "aborting the transaction"}) is a StorageQuotaError, and the call changed nothing`, async () => {
      const name = dbName("quota");
      const store = makeStore({ name });
      const { id } = await store.create({ model: "m" });
      await store.appendMessage(id, text("before"));
      const before = { meta: await store.get(id), records: await all(name) };

      const restore = fillDisk(mode);
      const error = await store.appendMessage(id, photo(pixels(3000, 3))).catch((e: unknown) => e);
      restore();
      expect(error).toBeInstanceOf(StorageQuotaError);
      expect(error).toBeInstanceOf(StorageError);
      expect(((error as Error).cause as DOMException).name).toBe("QuotaExceededError");

      // The image was written before the message failed: it went with the aborted transaction.
      expect(await all(name)).toEqual(before.records);
      expect((await all(name)).images).toEqual([]);
      expect(await store.get(id)).toEqual(before.meta);

      // Room again: the same call goes through.
      await store.appendMessage(id, photo(pixels(3000, 3)));
      expect((await store.get(id))?.messageCount).toBe(2);
    });
  }

  describe("with a Conversation", () => {
    let upstream: Upstream;
    beforeAll(async () => void (upstream = await startUpstream()));
    afterAll(() => upstream.close());

    it("keeps its messages in memory, reports the StorageQuotaError, sends nothing, and writes them on flush()", async () => {
      upstream.handle(streamReply(["Hi"]));
      const store = makeStore();
      const conversation = await Conversation.create(store, { client: createClient({ baseURL: upstream.baseURL, maxRetries: 0 }), model: MODEL });
      const changes: ConversationChange[] = [];
      conversation.onChange((c) => changes.push(c));

      const restore = fillDisk("throw");
      const reply = conversation.send("hello");
      await expect(reply.done).rejects.toBeInstanceOf(StorageQuotaError);
      restore();

      expect(conversation.messages.map((m) => m.content)).toEqual(["hello"]);
      expect(conversation.pendingWrites).toBe(1);
      expect(changes.some((c) => c.type === "storage-error" && c.error instanceof StorageQuotaError)).toBe(true);
      expect(upstream.requests).toHaveLength(0);
      expect((await store.loadMessages(conversation.id)).messages).toEqual([]);

      await conversation.flush();
      expect(conversation.pendingWrites).toBe(0);
      expect((await store.loadMessages(conversation.id)).messages).toEqual(conversation.messages);
    });
  });
});

describe("IndexedDB store: corrupted records", () => {
  it("are reported and skipped: list, get, loadMessages and export go on", async () => {
    const name = dbName("corrupt");
    const reports: CorruptRecord[] = [];
    const store = makeStore({ name, onCorrupt: (r) => reports.push(r) });
    const { id } = await store.create({ model: "m", id: "good" });
    const image = pixels(500, 3);
    const sent: Message[] = [text("m0"), text("m1"), text("m2"), photo(image), text("m4")];
    for (const m of sent) await store.appendMessage(id, m);

    const db = await raw(name);
    const garbage = (value: unknown) => value as never;
    await db.put("messages", garbage({ conversationId: id, seq: 1, message: "garbage" }));
    await db.put("messages", garbage({ conversationId: id, seq: 2, message: { id: 7, role: "user" } }));
    await db.delete("images", sha256(image)); // seq 3's image is gone
    await db.put("conversations", garbage({ id: "bad", title: 5, updatedAt: Date.now() + 1e9 }));
    await db.put("conversations", garbage({ id: "worse", updatedAt: "yesterday" }));
    db.close();

    expect((await store.list()).conversations.map((c) => c.id)).toEqual(["good"]);
    expect(reports.map((r) => [r.store, r.key])).toEqual([
      ["conversations", "worse"],
      ["conversations", "bad"],
    ]);
    expect(await store.get("bad")).toBeUndefined();

    // The active path is m4, m3 (its image gone: skipped), m2 (lost: the path ends there, what was above it is cut off).
    reports.length = 0;
    expect((await store.loadMessages(id)).messages).toEqual([{ ...sent[4], parentId: sent[3]!.id }]);
    expect(reports.map((r) => [r.store, r.key]).sort()).toEqual([
      ["messages", [id, 1]],
      ["messages", [id, 2]],
      ["messages", [id, 3]],
    ]);

    // Paged one at a time: the same, and the paging ends.
    const ids: string[] = [];
    let before: number | undefined;
    do {
      const page = await store.loadMessages(id, { limit: 1, ...(before !== undefined && { before }) });
      ids.unshift(...page.messages.map((m) => m.id));
      before = page.before;
    } while (before !== undefined);
    expect(ids).toEqual([sent[4]!.id]);

    // Export has every valid message, the one cut off included.
    expect((await store.export(id)).messages.map((m) => m.id)).toEqual([sent[0]!.id, sent[4]!.id]);
    // Still writable, and deleting clears the bad records with the good.
    await store.appendMessage(id, text("after"));
    await store.delete(id);
    expect((await all(name)).messages).toEqual([]);
  });

  it("a reply whose tool calls are damaged is reported and skipped, not handed on to be sent", async () => {
    const name = dbName("corrupt-calls");
    const reports: CorruptRecord[] = [];
    const store = makeStore({ name, onCorrupt: (r) => reports.push(r) });
    const { id } = await store.create({ model: "m" });
    const call = { id: "call_1", name: "get_time", arguments: "{}", state: "done" as const, result: { time: "12:00" } };
    // Six first messages (versions of each other), each a reply that called a tool.
    const replies: Message[] = Array.from({ length: 6 }, (_, n) => ({ id: `r${n}`, role: "assistant", content: "", status: "complete", createdAt: n, toolCalls: [call] }));
    for (const reply of replies) await store.appendMessage(id, { ...reply, parentId: null });
    const damaged = ["garbage", [{ ...call, id: 7 }], [{ ...call, name: undefined }], [{ ...call, state: 3 }], [call, null]];
    const db = await raw(name);
    for (const [i, toolCalls] of damaged.entries()) await db.put("messages", { conversationId: id, seq: i + 1, message: { ...replies[i + 1]!, toolCalls } as never, images: [] });
    db.close();

    expect((await store.export(id)).messages).toEqual([replies[0]]);
    expect(reports.map((r) => r.key)).toEqual(damaged.map((_, i) => [id, i + 1]));
    await store.switchTo(id, "r0");
    expect((await store.loadMessages(id)).messages).toEqual([replies[0]]);
  });

  it("a throwing onCorrupt does not break the read", async () => {
    const name = dbName("corrupt-throw");
    const store = makeStore({
      name,
      onCorrupt: () => {
        throw new Error("listener bug");
      },
    });
    await store.create({ model: "m", id: "ok" });
    const db = await raw(name);
    await db.put("conversations", { id: "bad" } as never);
    db.close();
    expect((await store.list()).conversations.map((c) => c.id)).toEqual(["ok"]);
  });
});

describe("IndexedDB store: versions across tabs", () => {
  it("an upgrade blocked by a tab that never closes is surfaced (onBlocked, then DatabaseBlockedError), never a hang", async () => {
    const name = dbName("blocked");
    // Another tab, still on schema v1, that ignores versionchange.
    const old = await openDB<Schema>(name, 1, { upgrade: (db) => v1(db) });
    let blocked = 0;
    const store = makeStore({ name, onBlocked: () => blocked++, blockedTimeout: 150 });
    const started = Date.now();
    const error = await store.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseBlockedError);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/close or reload the other tabs/);
    expect(blocked).toBe(1);
    expect(Date.now() - started).toBeLessThan(3000);

    // The other tab goes away: the upgrade completes and the store works.
    old.close();
    expect(await store.list()).toEqual({ conversations: [] });
    const db = await raw(name);
    expect(db.version).toBe(VERSION);
  });

  it("a newer version opened elsewhere closes this connection cleanly (not blocking it); later calls say to reload", async () => {
    const name = dbName("newer");
    const store = makeStore({ name });
    await store.create({ model: "m", id: "x" });
    let blocked = false;
    const newer = await openDB(name, VERSION + 1, { blocked: () => (blocked = true) });
    expect(blocked).toBe(false);
    newer.close();
    const error = await store.get("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/reload the page/);
    expect(((error as Error).cause as DOMException).name).toBe("VersionError");
  });

  it("a closed store rejects calls with a StorageError", async () => {
    const store = makeStore();
    await store.create({ model: "m", id: "x" });
    store.close();
    await expect(store.get("x")).rejects.toBeInstanceOf(StorageError);
  });
});
