// edgechat/durable-object in real workerd: miniflare from Node, SQLite-backed Durable Objects, no nodejs_compat
// (a Node API anywhere in the bundle fails here). The test Worker (durable-object/worker.ts) imports the store from
// src/ and the contract from contract.ts, bundled with vite's JS API; each contract test runs in a fresh object.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeContract } from "./contract.ts";
import { bundle, json, lines, options, ROOT } from "./durable-object/workerd.ts";

/** The contract's test names (collected here, run in the Worker). */
const names: string[] = [];
storeContract({
  define: (name) => void names.push(name),
  makeStore: () => Promise.reject(new Error("only collecting names")),
  errors: { ValidationError: Error, StorageError: Error, ConversationNotFoundError: Error },
});

describe("edgechat/durable-object in workerd", () => {
  let dir: string;
  let code: string;
  let mf: Miniflare;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edgechat-do-"));
    code = await bundle("test/store/durable-object/worker.ts");
    mf = new Miniflare(options(code, join(dir, "main")));
    await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = async (path: string) => {
    const outcome = await json(mf, path);
    if (!outcome.ok) throw new Error(`in workerd: ${outcome.error}`);
  };

  describe("the contract, inside a fresh object per test (createDurableObjectStore)", () => {
    for (const name of names) it(name, () => check(`/run/object/${encodeURIComponent(name)}`));
  });

  describe("the contract, from the Worker over RPC to a fresh object per test (connectDurableObjectStore)", () => {
    for (const name of names) it(name, () => check(`/run/rpc/${encodeURIComponent(name)}`));
  });

  it("a caller that goes away while it holds the lock releases it; one that goes away while it waits never runs", async () => {
    const direct = await mf.unsafeGetDirectURL();
    const holder = await lines(new URL("/vanish/hold/one", direct));
    expect(await holder.next()).toBe("holding");
    expect(await json(mf, "/vanish/peek/one")).toEqual({ status: "streaming" });
    const queued = await lines(new URL("/vanish/queue/one", direct));
    expect(await queued.next()).toBe("waiting");
    queued.drop();
    const taking = json(mf, "/vanish/take/one");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await json(mf, "/vanish/peek/one")).toEqual({ status: "streaming" });
    holder.drop();
    expect(await taking).toMatchObject({ got: "got it", waited: true, status: "interrupted", ids: ["held-reply"] });
  });

  it("keeps conversations on disk: a new Miniflare on the same durableObjectsPersist dir reads them back", async () => {
    const persist = join(dir, "persist");
    const first = new Miniflare(options(code, persist));
    try {
      expect(await json(first, "/persist/write")).toEqual({ ok: true });
    } finally {
      await first.dispose();
    }
    const second = new Miniflare(options(code, persist));
    try {
      const { meta, exported } = await json(second, "/persist/read");
      expect(meta).toMatchObject({ id: "kept", title: "Kept", messageCount: 1 });
      const bytes = new Uint8Array(5000).map((_, i) => (i * 13 + (i >> 9)) & 255);
      expect(exported.messages).toEqual([
        {
          id: "m1",
          role: "user",
          createdAt: 1_764_000_000_000,
          content: [{ type: "text", text: "look" }, { type: "image", data: Buffer.from(bytes).toString("base64"), mimeType: "image/png", width: 640, height: 480 }],
        },
      ]);
    } finally {
      await second.dispose();
    }
  });

  it("opens what version 1 stored (a line per conversation: no parentId, no activeLeaf) as trees that work", async () => {
    const { opened, regenerated, switched, appended, exported, removed, reopened } = await json(mf, "/legacy");
    expect(opened.version).toEqual([{ version: 2 }]);
    const line = [{ id: "u1" }, { id: "a1", parentId: "u1" }, { id: "u2", parentId: "a1" }, { id: "a2", parentId: "u2" }];
    expect(opened.line, "each message follows the one before it, across the gap a removal left").toEqual(line);
    expect(opened.other, "another conversation's line is its own").toEqual([{ id: "o1" }]);
    expect(opened.empty).toEqual([]);
    expect(opened.image).toBe(true);
    const usage = { promptTokens: 10, completionTokens: 2, cost: 0.5 };
    expect(opened.conversations, "the last message is the active leaf; nothing else changed, the order of the list included").toEqual([
      { id: "line", title: "Old line", model: "m", createdAt: 1_764_000_000_000, updatedAt: 1_764_000_000_004, messageCount: 4, activeLeaf: "a2", usage },
      { id: "other", title: "Old other", model: "m", createdAt: 1_764_000_000_000, updatedAt: 1_764_000_000_002, messageCount: 1, activeLeaf: "o1", usage: { promptTokens: 0, completionTokens: 0, cost: 0 } },
      { id: "empty", title: "Old empty", model: "m", createdAt: 1_764_000_000_000, updatedAt: 1_764_000_000_001, messageCount: 0, usage: { promptTokens: 0, completionTokens: 0, cost: 0 } },
    ]);

    expect(regenerated.meta).toMatchObject({ messageCount: 5, activeLeaf: "a2b", forks: { u2: ["a2", "a2b"] } });
    expect(regenerated.path).toEqual([...line.slice(0, 3), { id: "a2b", parentId: "u2" }]);
    expect(switched).toEqual({ leaf: "a2", path: line });
    expect(appended).toEqual([...line, { id: "u3", parentId: "a2" }]);
    expect(exported).toEqual({ version: 2, activeLeaf: "u3", messages: [...line, { id: "a2b", parentId: "u2" }, { id: "u3", parentId: "a2" }] });
    expect(removed.meta).toMatchObject({ messageCount: 0, usage });
    expect([removed.meta.activeLeaf, removed.meta.forks]).toEqual([undefined, undefined]);
    expect([removed.images, removed.chunks], "the old image is freed with its message").toEqual([[], []]);
    expect(reopened).toMatchObject({ version: [{ version: 2 }], other: [{ id: "o1" }], meta: { activeLeaf: "o1", updatedAt: 1_764_000_000_002 } });
  });

  it("stores a 3 MB image once (SHA-256, in 1 MiB chunks under SQLite's 2 MiB cap) and frees it with its last message", async () => {
    const { shared, roundTrip, afterDelete, afterRemove } = await json(mf, "/images");
    expect(roundTrip).toBe(true);
    expect(shared.images).toEqual([{ hash: expect.stringMatching(/^[0-9a-f]{64}$/), size: 3_000_000, refs: 2 }]);
    expect(shared.chunks.map((c: { size: number }) => c.size)).toEqual([1 << 20, 1 << 20, 3_000_000 - 2 * (1 << 20)]);
    expect(afterDelete.images).toEqual([{ ...shared.images[0], refs: 1 }]);
    expect(afterRemove).toEqual({ images: [], chunks: [] });
  });

  it("over RPC, errors arrive as edgechat's classes with their data; only store methods are callable", async () => {
    const { notFound, invalid, duplicate, notAMethod } = await json(mf, "/errors");
    expect(notFound).toEqual({ name: "ConversationNotFoundError", isNotFound: true, isStorage: true, id: "missing" });
    expect(invalid).toMatchObject({ name: "ValidationError", isValidation: true, message: expect.stringMatching(/^Invalid conversation JSON: messages/) });
    expect(invalid.issues.length).toBeGreaterThan(0);
    expect(duplicate).toEqual({ name: "StorageError", isStorage: true, message: 'A conversation with id "twice" already exists' });
    expect(notAMethod).toEqual({ ok: false, error: { kind: "StorageError", message: '"constructor" is not a ConversationStore method' } });
  });

  it("runs in a plain Worker: no process, Buffer or require", async () => {
    expect(await json(mf, "/globals")).toEqual({ process: "undefined", Buffer: "undefined", require: "undefined" });
  });

  it("the demo (demo/worker-store) keeps each user's conversations apart", async () => {
    const demo = await bundle("demo/worker-store/index.ts", { "edgechat/durable-object": join(ROOT, "src/store/durable-object/index.ts"), edgechat: join(ROOT, "src/index.ts") });
    const worker = new Miniflare(options(demo, join(dir, "demo"), { className: "UserConversations", binding: "CONVERSATIONS" }));
    try {
      const as = (user: string, method = "GET", body?: unknown) => ({ method, headers: { "x-user": user }, ...(body !== undefined && { body: JSON.stringify(body) }) });
      const created = await json(worker, "/conversations", as("ann", "POST", { model: "m", title: "Ann's" }));
      expect(created).toMatchObject({ title: "Ann's", messageCount: 0 });
      expect((await worker.dispatchFetch(`http://demo.test/conversations/${created.id}/messages`, as("ann", "POST", { text: "Hello" }) as never)).status).toBe(204);
      expect((await json(worker, "/conversations", as("ann"))).conversations).toMatchObject([{ id: created.id, messageCount: 1 }]);
      expect((await json(worker, "/conversations", as("bob"))).conversations).toEqual([]);
      expect((await worker.dispatchFetch(`http://demo.test/conversations/${created.id}/export`, as("bob") as never)).status).toBe(404);
      expect((await json(worker, `/conversations/${created.id}/export`, as("ann"))).messages).toMatchObject([{ role: "user", content: "Hello" }]);
    } finally {
      await worker.dispose();
    }
  });
});
