// edgechat/deno-kv on real Deno KV (a SQLite file per test, in the directory run.mjs passes after `--`): the whole
// store contract, then what only this store has (64 KiB values, blobs written ahead, several connections, the lock
// across processes: kv_process.ts is the other process).
// Run: node test/store/deno/run.mjs   (named *_test.ts, not *.test.ts, so vitest leaves it alone)
import { ValidationError } from "../../../src/errors/validation.ts";
import type { AssistantMessage, Message } from "../../../src/messages/types.ts";
import { type AtomicOperationLike, createDenoKvStore, type DenoKvLike, DenoKvLimitError, DenoKvLockLostError } from "../../../src/store/deno-kv/index.ts";
import type { ConversationMeta, ConversationStore } from "../../../src/store/types.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import { assistantMessage, equal, fail, linked, storeContract, userMessage } from "../contract.ts";

const [dir, deno] = Deno.args.length === 2 ? Deno.args : fail("pass a directory for the KV files and the deno binary: deno test … kv_test.ts -- <dir> <deno>");
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
const paths = new WeakMap<object, string>();
storeContract({
  define: (name, fn) =>
    kvTest(name, async (open) => {
      current = open;
      await fn();
    }),
  makeStore: async () => {
    const path = newPath();
    const kv = await current!(path);
    const store = createDenoKvStore(kv);
    databases.set(store, kv);
    paths.set(store, path);
    return store;
  },
  // Another connection to the same file: what another isolate or process holds.
  sibling: async (store) => createDenoKvStore(await current!(paths.get(store))),
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
  const reply: Message = { id: "r", role: "assistant", content: "y".repeat(70_000), status: "complete", createdAt: 1, parentId: big.id };
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

/** The active path, every page of `limit` loaded newest first; `each` sees each page's load. */
async function pagedPath(s: ConversationStore, id: string, limit: number, each: () => void = () => {}): Promise<Message[]> {
  const pages: Message[][] = [];
  let before: number | undefined;
  do {
    const page = await s.loadMessages(id, { limit, ...(before !== undefined && { before }) });
    each();
    pages.unshift(page.messages);
    before = page.before;
  } while (before !== undefined);
  return pages.flat();
}

/**
 * A conversation as the store wrote it before conversations were trees (issue 13): records without `parent`, a meta
 * without `activeLeaf`. `seqs` may leave gaps: messages were removed one by one then.
 */
async function writeLinear(kv: Deno.Kv, id: string, messages: Message[], seqs: number[]): Promise<void> {
  const key = `old-${id}`;
  const meta = { id, title: "Old", model: "m", createdAt: 1, updatedAt: 2, messageCount: messages.length, usage: { promptTokens: 0, completionTokens: 0, cost: 0 } };
  const op = kv.atomic().set(["edgechat", "conv", id], { meta, nextSeq: seqs.at(-1)! + 1, key }).set(["edgechat", "conv_by_updated", meta.updatedAt, id], meta);
  for (const [i, m] of messages.entries()) {
    const body = new TextEncoder().encode(JSON.stringify(m));
    op.set(["edgechat", "msg", key, seqs[i]!], { id: m.id, images: [], size: body.length, body }).set(["edgechat", "msg_id", key, m.id], seqs[i]!);
  }
  equal((await op.commit()).ok, true, "the old conversation written");
}

kvTest("a conversation stored before trees reads as the line it was, then grows as a tree: versions, a switch, an update, a removal", async (open) => {
  const kv = await open();
  const s = createDenoKvStore(kv);
  const old = Array.from({ length: 5 }, (_, i): Message => (i % 2 ? assistantMessage(`a${i}`) : userMessage(`u${i}`)));
  await writeLinear(kv, "old", old, [0, 1, 2, 4, 5]); // seq 3: a message removed back then
  const line = linked(...old);
  const stored = async () => (await kv.get<{ meta: ConversationMeta }>(["edgechat", "conv", "old"])).value!.meta;
  const path = async () => (await s.loadMessages("old", { limit: Infinity })).messages;

  equal([(await s.get("old"))?.activeLeaf, (await s.list()).conversations[0]?.activeLeaf], [old[4]!.id, old[4]!.id], "its active leaf: the newest message");
  equal(await path(), line, "each message follows the one stored before it");
  equal(await pagedPath(s, "old", 2), line, "in pages");
  const doc = await s.export("old");
  equal([doc.version, doc.activeLeaf, doc.messages.map((m) => m.parentId)], [2, old[4]!.id, [undefined, ...old.slice(0, 4).map((m) => m.id)]], "exported as a tree");
  equal((await stored()).activeLeaf, undefined, "reading wrote nothing");

  const next = userMessage("next");
  await s.appendMessage("old", next);
  equal((await stored()).activeLeaf, next.id, "the first write stores the meta settled");
  const version = assistantMessage("a1, again", { parentId: old[0]!.id });
  await s.appendMessage("old", version);
  let meta = (await s.get("old"))!;
  equal([meta.messageCount, meta.forks, meta.activeLeaf], [7, { [old[0]!.id]: [old[1]!.id, version.id] }, version.id], "a version of an old message: a fork");
  equal(await path(), [old[0], version], "its path");
  equal(await s.switchTo("old", old[1]!.id), next.id, "a switch back to the old version lands on the newest leaf under it");
  await s.updateMessage("old", { ...old[2]!, content: "u2, fixed", parentId: null });
  const fixed = [...line.slice(0, 2), { ...line[2]!, content: "u2, fixed" }];
  equal(await path(), [...fixed, ...line.slice(3), { ...next, parentId: old[4]!.id }], "an old message updated in place");

  await s.removeMessages("old", [old[3]!.id]);
  meta = (await s.get("old"))!;
  equal([meta.messageCount, meta.forks, meta.activeLeaf], [4, { [old[0]!.id]: [old[1]!.id, version.id] }, old[2]!.id], "the old line's end removed, what was appended after it too");
  equal(await path(), fixed, "the path left");
  equal((await entries(kv, "msg")).length, 4, "their records deleted");
});

kvTest("an append is one commit of the message, its id and the meta; a switch writes the meta alone; a page of a long tree reads about a page", async (open) => {
  const { kv, commits, listed } = counting(await open());
  const s = createDenoKvStore(kv);
  const { id } = await s.create({ model: "m" });
  const main = linked(...Array.from({ length: 150 }, (_, i): Message => (i % 2 ? assistantMessage(`a${i}`) : userMessage(`u${i}`))));
  const appended = async (m: Message) => {
    const n = commits.length;
    await s.appendMessage(id, m);
    equal(commits.slice(n), [{ checks: 1, mutations: 5, ok: true }], `the append of ${String(m.content)}: the message, its id, the meta and its index entry`);
  };
  for (const [i, m] of main.entries()) {
    await appended(m);
    // Every 20th message gets a version, with two messages under it, stored between the main line's messages.
    if (i % 20 !== 19) continue;
    for (const v of linked<Message>(assistantMessage(`v${i}`, { parentId: main[i - 1]!.id }), userMessage(`w${i}`), assistantMessage(`x${i}`))) await appended(v);
    const n = commits.length;
    equal(await s.switchTo(id, m.id), m.id, "back to the main line");
    equal(commits.slice(n), [{ checks: 1, mutations: 3, ok: true }], "a switch: the meta and its index entry");
  }
  let most = 0;
  let from = listed();
  const page = () => ((most = Math.max(most, listed() - from)), (from = listed()));
  equal(await pagedPath(s, id, 10, page), main, "the main line, in pages");
  if (most > 40) fail(`a page of 10 read ${most} message records (of ${(await s.get(id))!.messageCount})`);
});

/**
 * `kv` as a process that dies after `commits` more commits: every later commit throws. `beforeCommit(n)` runs
 * before the n-th commit (from 0), e.g. to let another process act in between.
 */
function crashAfter(kv: Deno.Kv, commits: number, beforeCommit?: (n: number) => Promise<void>): { kv: DenoKvLike; crashed: () => boolean } {
  let left = commits;
  let crashed = false;
  let n = 0;
  const wrapped = interceptCommits(kv, async (commit) => {
    await beforeCommit?.(n++);
    if (left-- <= 0) {
      crashed = true;
      throw new Error("the process died");
    }
    return commit();
  });
  return { kv: wrapped, crashed: () => crashed };
}

/** `kv` whose atomic commits go through `through`, told whether the commit sets a lock key (a lease). */
function interceptCommits(kv: Deno.Kv, through: (commit: () => Promise<unknown>, setsLock: boolean) => Promise<unknown>): DenoKvLike {
  const base = kv as unknown as DenoKvLike;
  return {
    get: (key) => base.get(key),
    getMany: (keys) => base.getMany(keys),
    list: (selector, options) => base.list(selector, options),
    atomic() {
      const op = base.atomic();
      let setsLock = false;
      const atomic = {
        check: (...checks: Parameters<AtomicOperationLike["check"]>) => (op.check(...checks), atomic),
        set: (...args: Parameters<AtomicOperationLike["set"]>) => ((setsLock ||= args[0][1] === "lock"), op.set(...args), atomic),
        delete: (key: Parameters<AtomicOperationLike["delete"]>[0]) => (op.delete(key), atomic),
        commit: () => through(() => op.commit(), setsLock),
      };
      return atomic as unknown as AtomicOperationLike;
    },
  };
}

/**
 * What a fresh store reads back must be one consistent conversation: `expected` the active path, by every way of
 * reading it, of `stored` messages in all, and what `spent` cost.
 */
async function readsBack(s: ConversationStore, id: string, expected: Message[], stored: number, spent: Message[], what: string): Promise<void> {
  equal((await s.loadMessages(id, { limit: 1000 })).messages, expected, `${what}: messages`);
  equal(await pagedPath(s, id, 7), expected, `${what}: paged`);
  equal((await s.export(id)).messages.length, stored, `${what}: exported`);
  const meta = (await s.get(id))!;
  equal(meta.messageCount, stored, `${what}: messageCount`);
  const tokens = spent.reduce((sum, m) => sum + (m.role === "assistant" ? (m.usage?.prompt_tokens ?? 0) : 0), 0);
  equal(meta.usage.promptTokens, tokens, `${what}: usage`);
}

kvTest("removing a branch of 120 of 130 messages is one atomic step: a crash after any commit leaves all or none removed", async (open) => {
  const usage = { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 };
  let finished = false;
  for (let commits = 0; !finished; commits++) {
    const kv = await open();
    const setup = createDenoKvStore(kv);
    const { id } = await setup.create({ model: "m" });
    const sent = Array.from({ length: 130 }, (_, i): Message =>
      i % 10 === 0 ? withImage(bytes(3000, 1 + ((i / 10) % 4)), `m${i}`) : i % 2 ? assistantMessage(`a${i}`, { usage }) : userMessage(`u${i}`),
    );
    const kept = linked(...sent.slice(0, 10));
    // A second version of the first message and 119 messages after it: the branch to remove, active.
    const branch = linked(...sent.slice(10));
    for (const m of kept) await setup.appendMessage(id, m);
    for (const [i, m] of branch.entries()) await setup.appendMessage(id, i === 0 ? { ...m, parentId: null } : m);

    const dying = crashAfter(kv, commits);
    await createDenoKvStore(dying.kv)
      .removeMessages(id, [...branch.map((m) => m.id), "not-stored"])
      .catch(() => undefined);
    finished = !dying.crashed();

    const fresh = createDenoKvStore(kv);
    const all = (await fresh.get(id))!.messageCount === sent.length;
    const path = all ? branch : kept;
    await readsBack(fresh, id, path, all ? sent.length : kept.length, sent, `crash after ${commits} commits`);
    // The next write finishes what the crash left: nothing of the removed messages remains.
    const after = userMessage("after");
    await fresh.appendMessage(id, after);
    const more = [...path, { ...after, parentId: path.at(-1)!.id }];
    await readsBack(fresh, id, more, (all ? sent.length : kept.length) + 1, sent, `after ${commits} commits, then a write`);
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

/** `n` distinct images of about `size` bytes, all different from any other call's (`seed`). */
const distinct = (n: number, seed: number, size = 1000) => Array.from({ length: n }, (_, k) => bytes(size + (k % 7) * 13, seed * 1000 + k + 1));
const withImages = (images: readonly Uint8Array[], text = "look"): Message =>
  userMessage("", { content: [{ type: "text", text }, ...images.map((data) => ({ type: "image" as const, data, mimeType: "image/png" }))] });

/**
 * Deno KV, with the checks, mutations and outcome of every commit counted, the atomic operations begun but never
 * committed (`abandoned()`: a commit the store found over a limit while building it, or had nothing to do), and the
 * message records range reads returned (`listed()`).
 */
function counting(kv: Deno.Kv): { kv: DenoKvLike; commits: { checks: number; mutations: number; ok: boolean }[]; abandoned: () => number; listed: () => number } {
  const base = kv as unknown as DenoKvLike;
  const commits: { checks: number; mutations: number; ok: boolean }[] = [];
  let begun = 0;
  let listed = 0;
  const wrapped: DenoKvLike = {
    get: (key) => base.get(key),
    getMany: (keys) => base.getMany(keys),
    list: (selector, options) =>
      (async function* () {
        for await (const entry of base.list(selector, options)) {
          if (entry.key.includes("msg")) listed++;
          yield entry;
        }
      })() as AsyncIterable<never>,
    atomic() {
      begun++;
      const op = base.atomic();
      const count = { checks: 0, mutations: 0, ok: false };
      const atomic = {
        check: (...checks: Parameters<AtomicOperationLike["check"]>) => ((count.checks += checks.length), op.check(...checks), atomic),
        set: (key: Parameters<AtomicOperationLike["set"]>[0], value: unknown) => (count.mutations++, op.set(key, value), atomic),
        delete: (key: Parameters<AtomicOperationLike["delete"]>[0]) => (count.mutations++, op.delete(key), atomic),
        commit: async () => {
          commits.push(count);
          const result = await op.commit();
          count.ok = result.ok;
          return result;
        },
      };
      return atomic as unknown as AtomicOperationLike;
    },
  };
  return { kv: wrapped, commits, abandoned: () => begun - commits.length, listed: () => listed };
}

for (const [what, prefix, size] of [
  ["small images", ["edgechat"], 1000],
  ["images of 20-60 KB (most written ahead of their commits)", ["edgechat"], 20_000],
  ["a 1500-byte prefix (keys fill the 80 KiB of keys a commit allows)", ["edgechat", "u".repeat(1500)], 1000],
] as const) {
  kvTest(`20 messages × 8 distinct images, ${what}: import, read back, remove, delete, purge, in commits under Deno KV's limits`, async (open) => {
    const kv = await open();
    const { kv: counted, commits, abandoned } = counting(kv);
    const s = createDenoKvStore(counted, { prefix });
    const sent = linked(...Array.from({ length: 20 }, (_, i) => withImages(distinct(8, i + 1, size + (size > 1000 ? i * 2000 : 0)), `m${i}`)));
    // The document to import: written by a store on another database, exported (images in base64).
    const writer = createDenoKvStore(await open());
    const { id } = await writer.create({ model: "m" });
    for (const m of sent) await writer.appendMessage(id, m);
    const exported = { ...JSON.parse(JSON.stringify(await writer.export(id))), id: "many" };
    await s.import(exported);
    equal((await s.loadMessages("many", { limit: 100 })).messages, sent, "read back");
    await s.import({ ...exported, id: "copy" });
    const under = (label: string) => {
      const over = commits.filter((c) => c.checks > 100 || c.mutations > 1000);
      if (over.length > 0) fail(`${label}: a commit over the limits: ${JSON.stringify(over[0])}`);
    };
    under("imports");
    const keys = async (part: string) => {
      const out: Deno.KvEntry<unknown>[] = [];
      for await (const entry of kv.list({ prefix: [...prefix, part] })) out.push(entry);
      return out;
    };
    equal(((await keys("img")).map((e) => (e.value as { refs: number }).refs)), Array(160).fill(2), "160 images, each used by both copies");
    await s.removeMessages("copy", sent.map((m) => m.id));
    equal((await s.loadMessages("copy")).messages, [], "removed");
    equal(((await keys("img")).map((e) => (e.value as { refs: number }).refs)), Array(160).fill(1), "one reference each left");
    await s.delete("copy");
    equal((await s.loadMessages("many", { limit: 100 })).messages, sent, "the other copy is whole");
    await s.delete("many");
    under("removal, deletes, purges");
    // Each batch was planned to fit: no commit was begun and found over a limit (nor any begun for nothing).
    equal(abandoned(), 0, "commits begun and abandoned");
    const left: unknown[] = [];
    for await (const entry of kv.list({ prefix })) left.push(entry.key);
    equal(left, [], "nothing left");
    equal(commits.some((c) => !c.ok), false, "no commit failed");
  });
}

kvTest("one message with 120 distinct images is over one commit's 100 checks: a DenoKvLimitError before anything is written", async (open) => {
  const kv = await open();
  const { kv: counted, commits } = counting(kv);
  const s = createDenoKvStore(counted);
  const { id } = await s.create({ model: "m" });
  const first = userMessage("first");
  await s.appendMessage(id, first);
  const before = await s.get(id);
  const huge = withImages(distinct(120, 7));
  const stored = async () => ({ msg: (await entries(kv, "msg")).length, img: (await entries(kv, "img")).length, blob: (await entries(kv, "blob")).length, loose: (await entries(kv, "loose")).length, trash: (await entries(kv, "trash")).length });
  const nothing = { msg: 1, img: 0, blob: 0, loose: 0, trash: 0 };
  /** `call` fails with DenoKvLimitError and leaves nothing; `commits` of them are tried first (written ahead, then deleted). */
  const limitError = async (call: Promise<unknown>, what: string, tried = 0) => {
    const n = commits.length;
    const error = await call.then(() => fail(`${what}: expected a rejection`), (e: unknown) => e);
    if (tried === 0) equal(commits.length - n, 0, `${what}: commits tried`);
    else if (commits.length - n < tried) fail(`${what}: expected bytes written ahead first`);
    if (!(error instanceof DenoKvLimitError) || !(error instanceof StorageError) || error.limit !== "checks") fail(`${what}: expected a DenoKvLimitError for checks, got ${String(error)}`);
    equal(await stored(), nothing, `${what}: nothing stored`);
  };
  await limitError(s.appendMessage(id, huge), "append");
  equal(await s.get(id), before, "append: meta unchanged");
  equal((await s.loadMessages(id)).messages, [first], "append: messages unchanged");
  await limitError(s.updateMessage(id, { ...huge, id: first.id }), "update");
  equal((await s.loadMessages(id)).messages, [first], "update: message unchanged");

  // Its checks come first: too many, and no image is written ahead, however large.
  await limitError(s.appendMessage(id, withImages(distinct(120, 10, 30_000), "x".repeat(600_000))), "append of 120 images of 30 KB and a 600 KB text");
  // Written ahead before it fails (its images too big to go inline): still nothing left.
  const big = withImages(distinct(60, 8, 30_000));
  await limitError(s.appendMessage(id, big), "append of 60 images of 30 KB (each also needs its write-ahead mark checked)", 2);

  const writer = createDenoKvStore(await open());
  const other = await writer.create({ model: "m" });
  await writer.appendMessage(other.id, userMessage("fine"));
  // The document as an export would hold it (a store refuses to write it, so it is built by hand).
  const doc = JSON.parse(JSON.stringify(await writer.export(other.id)));
  const toBase64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
  doc.id = "imported";
  doc.messages.push({ ...huge, content: [{ type: "text", text: "look" }, ...distinct(120, 7).map((b) => ({ type: "image", data: toBase64(b), mimeType: "image/png" }))] });
  await limitError(s.import(doc), "import");
  equal(await s.get("imported"), undefined, "import: no conversation");
});

kvTest("one message with 99 distinct images fits one commit exactly (100 checks): append, read, update, remove, import, delete", async (open) => {
  const kv = await open();
  const s = createDenoKvStore(kv);
  const { id } = await s.create({ model: "m" });
  const full = withImages(distinct(99, 9));
  await s.appendMessage(id, full);
  equal((await s.loadMessages(id)).messages, [full], "read back");
  equal((await entries(kv, "img")).length, 99, "99 images");
  const changed = { ...full, content: [{ type: "text" as const, text: "changed" }, ...(full.content as object[]).slice(1)] } as Message;
  await s.updateMessage(id, changed);
  equal((await s.loadMessages(id)).messages, [changed], "updated (same images: no reference changes)");
  const doc = { ...JSON.parse(JSON.stringify(await s.export(id))), id: "again" };
  await s.removeMessages(id, [full.id]);
  equal((await entries(kv, "img")).length + (await entries(kv, "blob")).length, 0, "removed: images freed");
  await s.import(doc);
  equal((await s.loadMessages("again")).messages, [changed], "imported");
  await s.delete("again");
  await s.delete(id);
  equal((await entries(kv)).length, 0, "nothing left");
});

/**
 * `kv` for a reader: the first time the reader does `at` ("list": reads a conversation's messages; "images": reads
 * image records; `{ get }`: gets the key that ends so), `between()` runs to its end first. Counts those reads.
 */
function interleaved(kv: Deno.Kv, at: "list" | "images" | { get: string }, between: () => Promise<void>): { kv: DenoKvLike; reads: () => number } {
  const base = kv as unknown as DenoKvLike;
  let reads = 0;
  let fired = false;
  const point = async () => {
    reads++;
    if (fired) return;
    fired = true;
    await between();
  };
  const wrapped: DenoKvLike = {
    async get(key) {
      if (typeof at === "object" && key.at(-1) === at.get) await point();
      return base.get(key);
    },
    async getMany(keys) {
      if (at === "images" && keys.some((k) => k[1] === "img")) await point();
      return base.getMany(keys);
    },
    list: (selector, options) =>
      (async function* () {
        if (at === "list" && "prefix" in selector && selector.prefix[1] === "msg") await point();
        yield* base.list(selector, options);
      })() as AsyncIterable<never>,
    atomic: () => base.atomic(),
  };
  return { kv: wrapped, reads: () => reads };
}

for (const [at, cleanup, what] of [
  ["list", false, "between reading the record and listing the messages; its cleanup died (the messages are hidden, still there)"],
  ["list", true, "between reading the record and listing the messages, cleanup and all"],
  ["images", true, "between listing the messages and reading their images (the removed message's image is freed)"],
] as const) {
  kvTest(`a reader re-reads when a removal commits ${what}: a consistent page, no removed message, no gap`, async (open) => {
    const kv = await open();
    const setup = createDenoKvStore(kv);
    const { id } = await setup.create({ model: "m" });
    const sent = linked(...Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? withImage(bytes(2000, 20 + i), `m${i}`) : userMessage(`m${i}`))));
    for (const m of sent) await setup.appendMessage(id, m);
    // m6 takes m7 to m9 with it (m8 among them: an id under another one removed is no matter).
    const gone = [sent[6]!, sent[8]!];
    const kept = sent.slice(0, 6);
    const remove = async () => {
      // Another process: its removal commits; with `cleanup` false it dies right after (crashAfter 1 commit).
      const remover = cleanup ? kv : crashAfter(kv, 1).kv;
      await createDenoKvStore(remover as DenoKvLike).removeMessages(id, gone.map((m) => m.id));
    };

    const reader = interleaved(kv, at, remove);
    const s = createDenoKvStore(reader.kv);
    const page = await s.loadMessages(id, { limit: 4 });
    equal(page.messages, kept.slice(-4), "the newest page, as after the removal");
    if (reader.reads() < 2) fail("the reader did not read again");
    const older = await s.loadMessages(id, { limit: 100, before: page.before! });
    equal([...older.messages, ...page.messages], kept, "with the older page: every kept message once, none removed");

    // export, on a fresh copy of the same situation.
    const again = await open();
    const copy = createDenoKvStore(again);
    const { id: other } = await copy.create({ model: "m" });
    for (const m of sent) await copy.appendMessage(other, m);
    const exporter = interleaved(again, at, async () => {
      const remover = cleanup ? again : crashAfter(again, 1).kv;
      await createDenoKvStore(remover as DenoKvLike).removeMessages(other, gone.map((m) => m.id));
    });
    const doc = await createDenoKvStore(exporter.kv).export(other);
    equal(doc.messages.map((m) => m.id), kept.map((m) => m.id), "export: the kept messages");
    if (exporter.reads() < 2) fail("export did not read again");
  });
}

kvTest("a write whose tree reads another writer's commit changed runs again: a removal whose active leaf's parent goes meanwhile", async (open) => {
  const kv = await open();
  const setup = createDenoKvStore(kv);
  const { id } = await setup.create({ model: "m" });
  const [u0, a1, u2, a3] = linked<Message>(userMessage("u0"), assistantMessage("a1"), userMessage("u2"), assistantMessage("a3"));
  for (const m of [u0!, a1!, u2!, a3!]) await setup.appendMessage(id, m);
  // Removing a3 (the active leaf) looks u2 up, to go on from there; another process removes u2 (a3 with it) just then.
  const writer = interleaved(kv, { get: u2!.id }, () => createDenoKvStore(kv).removeMessages(id, [u2!.id]));
  await createDenoKvStore(writer.kv).removeMessages(id, [a3!.id]);
  equal(writer.reads(), 1, "the other removal ran");
  const meta = (await setup.get(id))!;
  equal([meta.messageCount, meta.activeLeaf], [2, a1!.id], "both removals, once each");
  equal((await setup.loadMessages(id)).messages, [u0, a1], "what is left");
});

/** `kv` for a lock holder whose renewals can be made to stall (as a paused process's would): they never commit. */
function stallable(kv: Deno.Kv): { kv: DenoKvLike; stall: () => void } {
  let stalled = false;
  const wrapped = interceptCommits(kv, (commit, setsLock) => (stalled && setsLock ? Promise.resolve({ ok: false as const }) : commit()));
  return { kv: wrapped, stall: () => (stalled = true) };
}

kvTest("a lease is renewed while its holder runs; a holder stalled past it has lost the lock: its writes fail, nothing written", async (open) => {
  const path = newPath();
  const holder = stallable(await open(path));
  const a = createDenoKvStore(holder.kv, { lockLease: 500 });
  const [b, c] = [createDenoKvStore(await open(path)), createDenoKvStore(await open(path))];
  const { id } = await b.create({ model: "m" });
  const [question, reply] = linked<Message>(userMessage("a's question"), assistantMessage("", { status: "streaming" })) as [Message, AssistantMessage];
  let resume!: () => void;
  let holding!: () => void;
  const stalled = new Promise<void>((resolve) => (resume = resolve));
  const held = new Promise<void>((resolve) => (holding = resolve));
  const first = a.lockConversation!(id, async () => {
    await a.appendMessage(id, question);
    await a.appendMessage(id, reply);
    holding();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    equal(await c.interruptStale!(id, reply.id), reply, "held past the first lease (renewed): still streaming");
    holder.stall();
    await stalled;
    await a.updateMessage(id, { ...reply, content: "late", status: "complete" });
  });
  await held;
  let waited = false;
  const later = userMessage("b's question", { parentId: reply.id });
  await b.lockConversation!(
    id,
    async () => {
      await b.appendMessage(id, later);
      resume();
      const error = await first.then(() => undefined, (e: unknown) => e);
      if (!(error instanceof DenoKvLockLostError)) fail(`the stalled holder's write: expected DenoKvLockLostError, got ${String(error)}`);
      equal(await c.interruptStale!(id, reply.id), reply, "the new holder's lease survives the old one's release");
    },
    { onWait: () => (waited = true) },
  );
  equal(waited, true, "the new holder waited for the lease to run out");
  equal((await b.loadMessages(id)).messages, [question, reply, later], "nothing of the stalled holder's written after it lost the lock");
  equal(await c.interruptStale!(id, reply.id), { ...reply, status: "interrupted" }, "interrupted once nobody holds the lock");
});

/** Another process on the same database (kv_process.ts): its output line by line, a line to its stdin, a kill. */
function spawn(args: string[], { net = false } = {}) {
  const script = new URL("./kv_process.ts", import.meta.url).pathname;
  const permissions = [`--allow-read=${dir}`, `--allow-write=${dir}`, ...(net ? ["--allow-net=127.0.0.1"] : [])];
  const child = new Deno.Command(deno!, { args: ["run", "--unstable-kv", "--sloppy-imports", "--no-lock", ...permissions, script, ...args], stdin: "piped", stdout: "piped", stderr: "inherit" }).spawn();
  const output = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const input = child.stdin.getWriter();
  let buffered = "";
  let ended: Promise<boolean> | undefined;
  return {
    async line(): Promise<string> {
      while (!buffered.includes("\n")) {
        const { value, done } = await output.read();
        if (done) fail(`${args[0]}: the process ended, its output was ${JSON.stringify(buffered)}`);
        buffered += value;
      }
      const [line, ...rest] = buffered.split("\n");
      buffered = rest.join("\n");
      return line!;
    },
    say: (line: string) => input.write(new TextEncoder().encode(`${line}\n`)),
    /** Closes its pipes and waits for it to exit (killed first if `kill`): whether it succeeded. */
    end(kill = false): Promise<boolean> {
      if (kill && !ended) {
        try {
          child.kill("SIGKILL");
        } catch {
          // it had exited
        }
      }
      return (ended ??= (async () => {
        await input.close().catch(() => undefined);
        await output.cancel().catch(() => undefined);
        return (await child.status).success;
      })());
    },
  };
}

kvTest("two processes take one conversation's lock 15 times each: never two holders at once", async (open) => {
  const path = newPath();
  const store = createDenoKvStore(await open(path));
  const { id } = await store.create({ model: "m" });
  const racers = ["p", "q"].map((name) => spawn(["race", path, id, "15", name]));
  try {
    for (const r of racers) equal(await r.line(), "ready", "started");
    await Promise.all(racers.map((r) => r.say("go")));
    const waits = await Promise.all(racers.map(async (r) => Number((await r.line()).split(" ")[1])));
    for (const r of racers) equal(await r.end(), true, "exited cleanly");
    const markers = (await store.loadMessages(id, { limit: Infinity })).messages.map((m) => m.content as string);
    equal(markers.length, 60, "two markers per hold");
    for (let i = 0; i < markers.length; i += 2) {
      if (!markers[i]!.endsWith(" enter") || markers[i + 1] !== markers[i]!.replace("enter", "leave")) fail(`holders overlapped: ${markers.slice(i, i + 4).join(", ")}`);
    }
    const turns = markers.filter((m, i) => i % 2 === 0 && i > 0 && m !== markers[i - 2]).length;
    if (waits.includes(0) || turns < 5) fail(`the processes hardly raced (waits ${waits}, ${turns} changes of holder)`);
  } finally {
    await Promise.all(racers.map((r) => r.end(true)));
  }
});

kvTest("a process killed holding the lock: another process takes it once the lease runs out, and interrupts its reply", async (open) => {
  const lease = 1000;
  const path = newPath();
  const store = createDenoKvStore(await open(path));
  const { id } = await store.create({ model: "m" });
  await store.appendMessage(id, userMessage("q"));
  const holder = spawn(["hold", path, id, String(lease)]);
  try {
    equal(await holder.line(), "ready", "started");
    const reply = (await holder.line()).replace("held ", "");
    await holder.end(true);
    const killed = Date.now();
    const status = async () => ((await store.loadMessages(id)).messages.find((m) => m.id === reply) as AssistantMessage | undefined)?.status;
    equal((await store.interruptStale!(id, reply))?.id, reply, "the reply");
    equal(await status(), "streaming", "left streaming while the dead holder's lease runs");
    let waited = false;
    await store.lockConversation!(
      id,
      async () => {
        const after = Date.now() - killed;
        if (after > lease + 1000) fail(`taken ${after} ms after the holder died (lease ${lease} ms)`);
        await store.interruptStale!(id, reply);
        equal(await status(), "streaming", "left streaming while this process holds the lock");
      },
      { onWait: () => (waited = true) },
    );
    equal(waited, true, "had to wait for the lease to run out");
    equal((await store.interruptStale!(id, reply))?.role === "assistant" && (await status()), "interrupted", "interrupted once nobody holds the lock");
  } finally {
    await holder.end(true);
  }
});

/** A DeepInfra-like upstream whose reply names the last user message ("re: <it>"), streamed in pieces. */
function upstream(requests: { role: string; content: string }[][]) {
  const chunk = (delta: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1764028800, model: "meta-llama/Llama-3.2-90B-Vision-Instruct", choices: [{ index: 0, delta, finish_reason: null, logprobs: null }], ...extra })}\n\n`;
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const { messages } = (await request.json()) as { messages: { role: string; content: string }[] };
    requests.push(messages);
    const asked = messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
    const events = [chunk({ role: "assistant", content: "" }), chunk({ content: "re: " }), chunk({ content: asked })];
    const usage = { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, estimated_cost: 0.000005 };
    events.push(chunk({}, { choices: [{ index: 0, delta: {}, finish_reason: "stop", logprobs: null }], usage }), "data: [DONE]\n\n");
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5)); // a reply takes a while: the other process is sending meanwhile
        const event = events.shift();
        if (event === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(event));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
}

kvTest("issue 12: two processes, a Conversation each on one KV file, send at the same moment 10 times: one turn at a time, each with the whole history", async (open) => {
  const requests: { role: string; content: string }[][] = [];
  const server = upstream(requests);
  const path = newPath();
  const store = createDenoKvStore(await open(path));
  const { id } = await store.create({ model: "meta-llama/Llama-3.2-90B-Vision-Instruct" });
  const baseURL = `http://127.0.0.1:${server.addr.port}/v1/openai`;
  const writers = ["p", "q"].map((name) => spawn(["chat", path, id, "10", name, baseURL], { net: true }));
  try {
    for (const w of writers) equal(await w.line(), "ready", "opened");
    let waited = 0;
    for (let round = 0; round < 10; round++) {
      await Promise.all(writers.map((w) => w.say("go")));
      for (const w of writers) waited += (await w.line()) === "done after waiting" ? 1 : 0;
    }
    if (waited < 5) fail(`a send waited for the other process's turn in only ${waited} of 10 rounds: they hardly raced`);
    for (const w of writers) equal(await w.end(), true, "exited cleanly");

    const transcript = (await store.loadMessages(id, { limit: Infinity })).messages;
    equal(transcript.map((m) => m.role[0]).join(""), "ua".repeat(20), "user and assistant alternate");
    transcript.forEach((m, i) => {
      if (m.role === "assistant") equal([m.content, m.status], [`re: ${transcript[i - 1]!.content}`, "complete"], `reply ${i}`);
    });
    equal(requests.length, 20, "requests");
    for (const sent of requests) {
      const asked = transcript.findIndex((m) => m.role === "user" && m.content === sent.at(-1)?.content);
      equal(sent.map((m) => [m.role, m.content]), transcript.slice(0, asked + 1).map((m) => [m.role, m.content]), `the request for "${sent.at(-1)?.content}": every earlier turn`);
    }
  } finally {
    await Promise.all(writers.map((w) => w.end(true)));
    await server.shutdown();
  }
});
