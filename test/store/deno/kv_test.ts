// edgechat/deno-kv on real Deno KV (a SQLite file per test, in the directory run.mjs passes after `--`): the whole
// store contract, then what only this store has (64 KiB values, blobs written ahead, several connections).
// Run: node test/store/deno/run.mjs   (named *_test.ts, not *.test.ts, so vitest leaves it alone)
import { ValidationError } from "../../../src/errors/validation.ts";
import type { Message } from "../../../src/conversation/types.ts";
import { type AtomicOperationLike, createDenoKvStore, type DenoKvLike } from "../../../src/store/deno-kv/index.ts";
import type { ConversationStore } from "../../../src/store/types.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import { assistantMessage, equal, fail, storeContract, userMessage } from "../contract.ts";

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

/**
 * `kv` as a process that dies after `commits` more commits: every later commit throws. `beforeCommit(n)` runs
 * before the n-th commit (from 0), e.g. to let another process act in between.
 */
function crashAfter(kv: Deno.Kv, commits: number, beforeCommit?: (n: number) => Promise<void>): { kv: DenoKvLike; crashed: () => boolean } {
  const base = kv as unknown as DenoKvLike;
  let left = commits;
  let crashed = false;
  let n = 0;
  const wrapped: DenoKvLike = {
    get: (key) => base.get(key),
    getMany: (keys) => base.getMany(keys),
    list: (selector, options) => base.list(selector, options),
    atomic() {
      const op = base.atomic();
      const atomic = {
        check: (...checks: Parameters<AtomicOperationLike["check"]>) => (op.check(...checks), atomic),
        set: (key: Parameters<AtomicOperationLike["set"]>[0], value: unknown) => (op.set(key, value), atomic),
        delete: (key: Parameters<AtomicOperationLike["delete"]>[0]) => (op.delete(key), atomic),
        commit: async () => {
          await beforeCommit?.(n++);
          if (left-- <= 0) {
            crashed = true;
            throw new Error("the process died");
          }
          return op.commit();
        },
      };
      return atomic as unknown as AtomicOperationLike;
    },
  };
  return { kv: wrapped, crashed: () => crashed };
}

/** What a fresh store reads back must be one consistent conversation: `expected`, by every way of reading it. */
async function readsBack(s: ConversationStore, id: string, expected: Message[], what: string): Promise<void> {
  equal((await s.loadMessages(id, { limit: 1000 })).messages, expected, `${what}: messages`);
  const paged: Message[] = [];
  let before: number | undefined;
  do {
    const page = await s.loadMessages(id, { limit: 7, ...(before !== undefined && { before }) });
    paged.unshift(...page.messages);
    before = page.before;
  } while (before !== undefined);
  equal(paged, expected, `${what}: paged`);
  equal((await s.export(id)).messages.length, expected.length, `${what}: exported`);
  const meta = (await s.get(id))!;
  equal(meta.messageCount, expected.length, `${what}: messageCount`);
  const tokens = expected.reduce((sum, m) => sum + (m.role === "assistant" ? (m.usage?.prompt_tokens ?? 0) : 0), 0);
  equal(meta.usage.promptTokens, tokens, `${what}: usage`);
}

kvTest("removing 120 of 130 messages is one atomic step: a crash after any commit leaves all or none removed", async (open) => {
  const usage = { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 };
  let finished = false;
  for (let commits = 0; !finished; commits++) {
    const kv = await open();
    const setup = createDenoKvStore(kv);
    const { id } = await setup.create({ model: "m" });
    const sent = Array.from({ length: 130 }, (_, i): Message =>
      i % 10 === 0 ? withImage(bytes(3000, 1 + ((i / 10) % 4)), `m${i}`) : i % 2 ? assistantMessage(`a${i}`, { usage }) : userMessage(`u${i}`),
    );
    for (const m of sent) await setup.appendMessage(id, m);
    const kept = sent.slice(120);

    const dying = crashAfter(kv, commits);
    await createDenoKvStore(dying.kv)
      .removeMessages(id, [...sent.slice(0, 120).map((m) => m.id), "not-stored"])
      .catch(() => undefined);
    finished = !dying.crashed();

    const fresh = createDenoKvStore(kv);
    const all = (await fresh.loadMessages(id, { limit: 1000 })).messages.length === sent.length;
    await readsBack(fresh, id, all ? sent : kept, `crash after ${commits} commits`);
    // The next write finishes what the crash left: nothing of the removed messages remains.
    const after = userMessage("after");
    await fresh.appendMessage(id, after);
    await readsBack(fresh, id, [...(all ? sent : kept), after], `after ${commits} commits, then a write`);
    if (!all) {
      equal((await entries(kv, "msg")).length, kept.length + 1, `after ${commits} commits: message records`);
      equal((await entries(kv, "msg_id")).length, kept.length + 1, `after ${commits} commits: id records`);
      equal((await entries(kv, "removal")).length, 0, `after ${commits} commits: the removal's list`);
      equal((await entries(kv, "img")).map((e) => (e.value as { refs: number }).refs), [1], `after ${commits} commits: one image, used once`);
      equal((await entries(kv, "blob")).length, 1, `after ${commits} commits: its bytes`);
    }
    kv.close();
  }
});

/** Makes every loose-blob mark look left by a crash long ago. */
async function age(kv: Deno.Kv): Promise<void> {
  for (const { key, value } of await entries(kv, "loose")) await kv.atomic().set(key, { ...(value as object), since: 0 }).commit();
}

kvTest("a crash while a big image is written ahead of its commit leaves marked bytes, swept once stale", async (open) => {
  const big = withImage(bytes(1_500_000, 13)); // 23 chunks, written ahead in 3 commits of 10
  let finished = false;
  for (let commits = 0; !finished; commits++) {
    const kv = await open();
    const { id } = await createDenoKvStore(kv).create({ model: "m" });
    const dying = crashAfter(kv, commits);
    await createDenoKvStore(dying.kv).appendMessage(id, big).catch(() => undefined);
    finished = !dying.crashed();
    const stored = (await createDenoKvStore(kv).loadMessages(id)).messages;
    equal(stored.length, finished ? 1 : 0, `crash after ${commits} commits: the message is there exactly when its commit was`);
    const loose = await entries(kv, "loose");
    if (!finished && (await entries(kv, "blob")).length > 0 && loose.length !== 1) fail(`crash after ${commits} commits: unmarked bytes`);
    if (finished) equal(loose.length, 0, "a committed blob has no mark");

    // A write by a fresh store sweeps: not a blob another writer may still be about to commit, but one a crash left.
    await createDenoKvStore(kv).appendMessage(id, userMessage("next"));
    equal((await entries(kv, "loose")).length, loose.length, `crash after ${commits} commits: a young mark stays`);
    await age(kv);
    await createDenoKvStore(kv).appendMessage(id, userMessage("later"));
    equal((await entries(kv, "loose")).length, 0, `crash after ${commits} commits: swept`);
    equal((await entries(kv, "blob")).length, finished ? 23 : 0, `crash after ${commits} commits: the bytes left`);
    equal((await createDenoKvStore(kv).loadMessages(id)).messages.length, finished ? 3 : 2, `crash after ${commits} commits: messages`);
    kv.close();
  }
});

kvTest("a sweep that claims a blob before its slow writer commits makes the writer write it again, never reference it", async (open) => {
  const kv = await open();
  const { id } = await createDenoKvStore(kv).create({ model: "m" });
  const big = withImage(bytes(700_000, 17)); // 11 chunks: written ahead in 2 commits, then the message's commit
  const slow = crashAfter(kv, Infinity, async (n) => {
    if (n !== 2) return;
    // Between the writing ahead and the commit, another process finds the mark stale and sweeps.
    await age(kv);
    await createDenoKvStore(kv).delete("anything");
  });
  await createDenoKvStore(slow.kv).appendMessage(id, big);
  equal((await createDenoKvStore(kv).loadMessages(id)).messages, [big], "read back whole");
  equal((await entries(kv, "blob")).length, 11, "one copy of the bytes");
  equal((await entries(kv, "loose")).length, 0, "no mark left");
});

kvTest("a crash after a commit that frees a blob, before its bytes are deleted, leaves them marked and swept", async (open) => {
  const kv = await open();
  const { id } = await createDenoKvStore(kv).create({ model: "m" });
  const photo = withImage(bytes(200_000, 19));
  await createDenoKvStore(kv).appendMessage(id, photo);
  // Commit 0 removes the message, commit 1 deletes it and drops the image's last reference; then the process dies.
  const dying = crashAfter(kv, 2);
  await createDenoKvStore(dying.kv).removeMessages(id, [photo.id]);
  equal(dying.crashed(), true, "died before the bytes were deleted");
  equal((await entries(kv, "img")).length, 0, "the image record went with the last reference");
  equal((await createDenoKvStore(kv).loadMessages(id)).messages, [], "removed");
  await createDenoKvStore(kv).appendMessage(id, userMessage("next"));
  equal((await entries(kv, "img")).length + (await entries(kv, "blob")).length + (await entries(kv, "loose")).length, 0, "image, bytes and mark gone");
});
