// edgechat/deno-kv on real Deno KV (a SQLite file per test, in the directory run.mjs passes after `--`): the whole
// store contract, then what only this store has (64 KiB values, blobs written ahead, several connections).
// Run: node test/store/deno/run.mjs   (named *_test.ts, not *.test.ts, so vitest leaves it alone)
import { ValidationError } from "../../../src/errors/validation.ts";
import type { Message } from "../../../src/conversation/types.ts";
import { createDenoKvStore } from "../../../src/store/deno-kv/index.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import { equal, fail, storeContract, userMessage } from "../contract.ts";

const dir = Deno.args[0] ?? fail("pass a directory for the KV files: deno test … kv_test.ts -- <dir>");
let files = 0;
const newPath = () => `${dir}/kv-${files++}.sqlite3`;

/** A test with the databases it opens closed at its end (Deno.test fails a test that leaks them). */
function kvTest(name: string, fn: (open: (path?: string) => Promise<Deno.Kv>) => Promise<void>): void {
  Deno.test(name, async () => {
    const opened: Deno.Kv[] = [];
    try {
      await fn(async (path = newPath()) => {
        const kv = await Deno.openKv(path);
        opened.push(kv);
        return kv;
      });
    } finally {
      for (const kv of opened) {
        try {
          kv.close();
        } catch {
          // closed by the test itself
        }
      }
    }
  });
}

let current: ((path?: string) => Promise<Deno.Kv>) | undefined;
const databases = new WeakMap<object, Deno.Kv>();
storeContract({
  define: (name, fn) =>
    kvTest(name, async (open) => {
      current = open;
      await fn();
    }),
  makeStore: async () => {
    const kv = await current!();
    const store = createDenoKvStore(kv);
    databases.set(store, kv);
    return store;
  },
  errors: { ValidationError, StorageError, ConversationNotFoundError },
  async footprint(store) {
    const kv = databases.get(store)!;
    return { images: (await entries(kv, "img")).length, chunks: (await entries(kv, "blob")).length };
  },
});

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + (i >> 9)) & 255);
const withImage = (data: Uint8Array, text = "look"): Message => userMessage("", { content: [{ type: "text", text }, { type: "image", data, mimeType: "image/jpeg" }] });

async function entries(kv: Deno.Kv, ...prefix: string[]): Promise<Deno.KvEntry<unknown>[]> {
  const out: Deno.KvEntry<unknown>[] = [];
  for await (const entry of kv.list({ prefix: ["edgechat", ...prefix] })) out.push(entry);
  return out;
}

kvTest("a 200 KB image is split across 64 KiB values, stored once, and freed with its last message", async (open) => {
  const kv = await open();
  const s = createDenoKvStore(kv);
  const image = bytes(200_000, 7);
  const a = await s.create({ model: "m" });
  const b = await s.create({ model: "m" });
  const first = withImage(image);
  const second = withImage(image.slice());
  await s.appendMessage(a.id, first);
  await s.appendMessage(b.id, second);
  equal((await s.loadMessages(b.id)).messages, [second], "read back");
  const [record] = await entries(kv, "img");
  equal((record?.value as { refs: number; size: number }).refs, 2, "one image record, two references");
  const chunks = await entries(kv, "blob");
  equal(chunks.map((c) => (c.value as Uint8Array).length), [65_536, 65_536, 65_536, 200_000 - 3 * 65_536], "64 KiB chunks");
  await s.delete(a.id);
  equal((await s.loadMessages(b.id)).messages, [second], "still there for the other conversation");
  equal(((await entries(kv, "img"))[0]?.value as { refs: number }).refs, 1, "one reference left");
  await s.removeMessages(b.id, [second.id]);
  equal((await entries(kv, "img")).length + (await entries(kv, "blob")).length, 0, "image and chunks gone");
});

kvTest("a 1.5 MB image and a 150 KB text (too big for one commit with the rest) are written ahead and read back", async (open) => {
  const kv = await open();
  const s = createDenoKvStore(kv);
  const { id } = await s.create({ model: "m" });
  const big = withImage(bytes(1_500_000, 11), "x".repeat(150_000));
  const reply: Message = { id: "r", role: "assistant", content: "y".repeat(70_000), status: "complete", createdAt: 1 };
  await s.appendMessage(id, big);
  await s.appendMessage(id, reply);
  equal((await s.loadMessages(id)).messages, [big, reply], "read back");
  const doc = JSON.parse(JSON.stringify(await s.export(id)));
  await s.updateMessage(id, { ...reply, content: "short now" });
  await s.delete(id);
  equal((await entries(kv)).length, 0, "nothing left after delete");
  await s.import(doc);
  equal((await s.loadMessages(id)).messages, [big, reply], "imported");
});

kvTest("two connections to one database: 40 concurrent appends all land once (versionstamp checks, retries)", async (open) => {
  const path = newPath();
  const [one, two] = [createDenoKvStore(await open(path)), createDenoKvStore(await open(path))];
  const { id } = await one.create({ model: "m" });
  const sent = Array.from({ length: 40 }, (_, i) => userMessage(`p${i}`));
  await Promise.all(sent.map((m, i) => (i % 2 ? one : two).appendMessage(id, m)));
  const stored = (await two.loadMessages(id, { limit: 100 })).messages;
  equal(stored.length, 40, "count");
  equal(new Set(stored.map((m) => m.id)).size, 40, "distinct");
  equal((await one.get(id))?.messageCount, 40, "messageCount");
  equal((await one.list()).conversations.length, 1, "one index entry");
});

kvTest("two connections sharing an image: reference counts stay exact under concurrent appends and deletes", async (open) => {
  const path = newPath();
  const kv = await open(path);
  const stores = [createDenoKvStore(kv), createDenoKvStore(await open(path))];
  const image = bytes(100_000, 3);
  const ids = await Promise.all(stores.map(async (s) => (await s.create({ model: "m" })).id));
  await Promise.all(Array.from({ length: 16 }, (_, i) => stores[i % 2]!.appendMessage(ids[i % 2]!, withImage(image.slice()))));
  equal(((await entries(kv, "img"))[0]?.value as { refs: number }).refs, 16, "16 references");
  await Promise.all(stores.map((s, i) => s.delete(ids[i]!)));
  equal((await entries(kv)).length, 0, "nothing left");
});

kvTest("a prefix per user keeps their conversations apart in one database", async (open) => {
  const kv = await open();
  const ann = createDenoKvStore(kv, { prefix: ["users", "ann"] });
  const bob = createDenoKvStore(kv, { prefix: ["users", "bob"] });
  const { id } = await ann.create({ model: "m", title: "Ann's" });
  equal((await ann.list()).conversations.map((c) => c.title), ["Ann's"], "ann's list");
  equal((await bob.list()).conversations, [], "bob's list");
  equal(await bob.get(id), undefined, "bob cannot get it");
});

kvTest("a delete that died before purging its messages is finished by a later delete (stale trash is swept)", async (open) => {
  const kv = await open();
  const s = createDenoKvStore(kv);
  const a = await s.create({ model: "m" });
  await s.appendMessage(a.id, withImage(bytes(70_000, 5)));
  const b = await s.create({ model: "m" });
  // What delete() commits first, as if the process died right after: the conversation gone, its messages in the trash.
  const entry = await kv.get<{ meta: { updatedAt: number }; key: string }>(["edgechat", "conv", a.id]);
  const { meta, key } = entry.value!;
  await kv.atomic().delete(entry.key).delete(["edgechat", "conv_by_updated", meta.updatedAt, a.id]).set(["edgechat", "trash", key], { since: Date.now() - 3_600_000 }).commit();
  equal((await entries(kv, "img")).length, 1, "the image is still referenced from the trash");
  await s.delete(b.id);
  equal((await entries(kv)).length, 0, "swept");
});

kvTest("what was written is there after closing and reopening the database file", async (open) => {
  const path = newPath();
  const kv = await open(path);
  const sent = withImage(bytes(90_000, 9));
  const { id } = await createDenoKvStore(kv).create({ model: "m", title: "Kept" });
  await createDenoKvStore(kv).appendMessage(id, sent);
  kv.close();
  const again = createDenoKvStore(await open(path));
  equal((await again.get(id))?.title, "Kept", "meta");
  equal((await again.loadMessages(id)).messages, [sent], "messages");
});
