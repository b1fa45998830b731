// The tree part of the ConversationStore contract: versions (edits, regenerations) as branches, the active path, a
// switch, a removed branch, the tree in export and import. Run by every store through `storeContract`.
import type { ConversationStore } from "../../src/store/types.ts";
import type { Message, UserMessage } from "../../src/messages/types.ts";
import { assistantMessage, type ContractHost, equal, fail, linked, userMessage } from "./contract.ts";

const usage = (p: number, c: number, cost: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c, estimated_cost: cost });
const image = (seed: number) => new Uint8Array(2000).map((_, i) => (i * seed + 1) & 255);
const photo = (seed: number, extra: Partial<UserMessage> = {}): UserMessage =>
  userMessage("", { content: [{ type: "text", text: `photo ${seed}` }, { type: "image", data: image(seed), mimeType: "image/png" }], ...extra });

async function rejectsWith(promise: Promise<unknown>, Class: Function, what: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof (Class as new () => unknown))) fail(`${what}: expected ${Class.name}, got ${String(error)}`);
    return;
  }
  fail(`${what}: expected a rejection`);
}

/** A message as a store gives it back: a `null` parent (a new first message) is stored as none. */
function stored<T extends Message>(m: T): T {
  if (m.parentId !== null) return m;
  const { parentId: _, ...rest } = m;
  return rest as T;
}

const path = async (s: ConversationStore, id: string) => (await s.loadMessages(id, { limit: Infinity })).messages;

export function treeContract(host: ContractHost): void {
  const { define, errors } = host;

  define("tree: an edit and a regeneration are versions; a switch lands on the newest leaf under a version", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m" });
    const [u1, a1] = linked<Message>(userMessage("q1"), assistantMessage("first answer", { usage: usage(10, 3, 0.5) }));
    await s.appendMessage(id, u1!);
    await s.appendMessage(id, a1!);
    // regenerate: a sibling of a1
    const a1b = assistantMessage("second answer", { parentId: u1!.id, usage: usage(10, 4, 0.25) });
    await s.appendMessage(id, a1b);
    let meta = (await s.get(id))!;
    equal(meta.forks, { [u1!.id]: [a1!.id, a1b.id] }, "a fork lists both versions, oldest first");
    equal(meta.activeLeaf, a1b.id, "the new version is active");
    equal(await path(s, id), [u1, a1b], "the active path");
    const [u2, a2] = linked<Message>(userMessage("q2", { parentId: a1b.id }), assistantMessage("a2"));
    await s.appendMessage(id, u2!);
    await s.appendMessage(id, a2!);
    // edit the first message: a new first message (parentId null)
    const u1b = userMessage("q1, edited", { parentId: null });
    await s.appendMessage(id, u1b);
    const u1bStored = stored(u1b);
    meta = (await s.get(id))!;
    equal(meta.forks, { [u1!.id]: [a1!.id, a1b.id], "": [u1!.id, u1b.id] }, "first messages have versions too");
    equal(await path(s, id), [u1bStored], "the edit starts a path of its own");
    equal([meta.messageCount, meta.usage], [6, { promptTokens: 20, completionTokens: 7, cost: 0.75 }], "every branch is counted");

    const before = meta.updatedAt;
    equal(await s.switchTo(id, u1!.id), a2!.id, "a switch to q1 lands on the newest leaf under it");
    equal(await path(s, id), [u1, a1b, u2, a2], "that leaf's path");
    meta = (await s.get(id))!;
    equal(meta.activeLeaf, a2!.id, "stored");
    if (!(meta.updatedAt > before)) fail("a switch moves updatedAt");
    equal(await s.switchTo(id, a1!.id), a1!.id, "a leaf is its own newest leaf");
    equal(await path(s, id), [u1, a1], "the first answer's path");
    equal((await s.switchTo(id, u1b.id), await path(s, id)), [u1bStored], "and back to the edit");
    await rejectsWith(s.switchTo(id, "not-stored"), errors.StorageError, "a switch to a message not stored");
    await rejectsWith(s.switchTo("no-such-conversation", u1!.id), errors.ConversationNotFoundError, "a switch in a missing conversation");
    await rejectsWith(s.appendMessage(id, userMessage("orphan", { parentId: "not-stored" })), errors.StorageError, "a parent not stored");
    equal((await s.get(id))!.messageCount, 6, "the failed append stored nothing");
    // An update keeps the message's place, whatever parentId it carries.
    await s.updateMessage(id, { ...a1!, content: "first answer, fixed", parentId: null });
    await s.switchTo(id, a1!.id);
    equal(await path(s, id), [u1, { ...a1, content: "first answer, fixed" }], "updated in place");
  });

  define("tree: the active path pages through other branches, a page at a time", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m" });
    const main = linked(...Array.from({ length: 24 }, (_, i): Message => (i % 2 ? assistantMessage(`a${i}`) : userMessage(`u${i}`))));
    // Branches stored between the main line's messages: a version of u4 with 5 messages under it, then one of a9.
    for (const m of main.slice(0, 12)) await s.appendMessage(id, m);
    const side = linked<Message>(userMessage("u4'", { parentId: main[3]!.id }), ...Array.from({ length: 4 }, (_, i) => assistantMessage(`side ${i}`)));
    for (const m of side) await s.appendMessage(id, m);
    await s.appendMessage(id, assistantMessage("a9'", { parentId: main[8]!.id }));
    equal(await s.switchTo(id, main[11]!.id), main[11]!.id, "back to the main line");
    for (const m of main.slice(12)) await s.appendMessage(id, m);
    equal(await path(s, id), main, "the whole active path");
    for (const limit of [1, 4, 5, 7]) {
      const pages: Message[][] = [];
      let before: number | undefined;
      do {
        const page = await s.loadMessages(id, { limit, ...(before !== undefined && { before }) });
        pages.unshift(page.messages);
        before = page.before;
        if (pages.length > 30) fail("paging ends");
      } while (before !== undefined);
      equal(pages.flat(), main, `pages of ${limit}, newest first, make the path`);
      equal(pages.slice(1).every((p) => p.length === limit), true, `pages of ${limit} are full but the oldest`);
    }
    await s.switchTo(id, side[0]!.id);
    equal(await path(s, id), [...main.slice(0, 4), ...side], "the side branch's path");
    equal((await s.loadMessages(id, { limit: 3 })).messages, side.slice(2), "its newest page");
  });

  define("tree: removing a version removes its branch, frees its images, and the active leaf moves to a version left", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m" });
    const [u1, a1] = linked<Message>(photo(1), assistantMessage("a1"));
    await s.appendMessage(id, u1!);
    await s.appendMessage(id, a1!);
    const [e1, e2, e3] = linked<Message>(photo(2, { parentId: null }), assistantMessage("e2"), photo(3));
    for (const m of [e1!, e2!, e3!]) await s.appendMessage(id, m);
    const [f1, f2] = linked<Message>(photo(1, { parentId: null }), photo(4)); // f1 shares u1's image
    for (const m of [f1!, f2!]) await s.appendMessage(id, m);
    if (host.footprint) equal(await host.footprint(s), { images: 4, chunks: 4 }, "four distinct images");
    equal((await s.get(id))!.forks, { "": [u1!.id, e1!.id, f1!.id] }, "three versions of the first message");

    await s.switchTo(id, e1!.id);
    await s.removeMessages(id, [e1!.id]);
    let meta = (await s.get(id))!;
    equal([meta.messageCount, meta.forks, meta.activeLeaf], [4, { "": [u1!.id, f1!.id] }, f2!.id], "e's branch gone; the newest leaf left is active");
    equal(await path(s, id), [stored(f1!), f2], "its path");
    if (host.footprint) equal(await host.footprint(s), { images: 2, chunks: 2 }, "images 2 and 3 freed; 1 (shared) and 4 kept");

    await s.removeMessages(id, [f1!.id]);
    meta = (await s.get(id))!;
    equal([meta.messageCount, meta.forks, meta.activeLeaf], [2, undefined, a1!.id], "one version left: no fork");
    equal(await path(s, id), [u1, a1], "the last version's path");
    if (host.footprint) equal(await host.footprint(s), { images: 1, chunks: 1 }, "image 1 still used by u1");
    equal(meta.usage, { promptTokens: 0, completionTokens: 0, cost: 0 }, "nothing was spent");
  });

  define("tree: export and import keep every branch and the active leaf; a version 1 document is a line", async () => {
    const s = await host.makeStore();
    const { id } = await s.create({ model: "m", title: "Tree" });
    const [u1, a1] = linked<Message>(userMessage("q"), assistantMessage("one", { usage: usage(5, 1, 0.25) }));
    await s.appendMessage(id, u1!);
    await s.appendMessage(id, a1!);
    const a1b = assistantMessage("two", { parentId: u1!.id, usage: usage(5, 2, 0.5) });
    await s.appendMessage(id, a1b);
    await s.switchTo(id, a1!.id);
    const doc = JSON.parse(JSON.stringify(await s.export(id)));
    equal([doc.version, doc.activeLeaf, doc.messages.length], [2, a1!.id, 3], "a version 2 document with every branch");
    await s.delete(id);
    const meta = await s.import(doc);
    equal([meta.activeLeaf, meta.forks, meta.messageCount], [a1!.id, { [u1!.id]: [a1!.id, a1b.id] }, 3], "the tree is back");
    equal(meta.usage, { promptTokens: 10, completionTokens: 3, cost: 0.75 }, "and what it cost");
    equal(await path(s, id), [u1, a1], "the active path");
    equal((await s.switchTo(id, a1b.id), await path(s, id)), [u1, a1b], "the other version");

    const v1 = { ...doc, id: `${id}-v1`, version: 1, messages: doc.messages.map(({ parentId: _, ...m }: { parentId?: string }) => m) };
    delete v1.activeLeaf;
    const old = await s.import(v1);
    equal([old.activeLeaf, old.forks], [a1b.id, undefined], "version 1: each message follows the one before");
    equal(await path(s, old.id), linked<Message>(u1!, a1!, a1b), "a line");
    await rejectsWith(s.import({ ...doc, id: "bad-parent", messages: [{ ...doc.messages[1], parentId: "nowhere" }] }), errors.ValidationError, "a parent not in the document");
    await rejectsWith(s.import({ ...doc, id: "bad-leaf", activeLeaf: "nowhere" }), errors.ValidationError, "an active leaf not in the document");
    equal(await s.get("bad-parent"), undefined, "nothing stored");
  });

  define("tree: new versions of one message from two handles at once all land, each once", async () => {
    const a = await host.makeStore();
    const b = host.sibling ? await host.sibling(a) : a;
    const { id } = await a.create({ model: "m" });
    const question = userMessage("q");
    await a.appendMessage(id, question);
    const first = assistantMessage("a0", { parentId: question.id });
    await a.appendMessage(id, first);
    const versions = Array.from({ length: 12 }, (_, i) => assistantMessage(`a${i + 1}`, { parentId: question.id }));
    await Promise.all(versions.map((m, i) => (i % 2 ? a : b).appendMessage(id, m)));
    const meta = (await b.get(id))!;
    const fork = meta.forks?.[question.id] ?? [];
    equal([fork.length, new Set(fork).size, fork[0]], [13, 13, first.id], "every version, once, the first first");
    equal(meta.messageCount, 14, "count");
    equal(versions.some((m) => m.id === meta.activeLeaf), true, "one of them is active");
  });
}
