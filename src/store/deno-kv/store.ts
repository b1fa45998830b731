import { exportDocument, importedMeta, spentOnImport } from "../document.js";
import { newId } from "../../messages/id.js";
import { parseConversationJSON } from "../../messages/json.js";
import type { Message } from "../../messages/types.js";
import { adjustUsage, countIn, countTree, newMeta, interrupted } from "../accounting.js";
import { guardStore } from "../guard.js";
import { beforeCursor, nextCursor, pageSize, parseCursor } from "../paging.js";
import { hashesOf, restoreImages, type StoredMessage } from "../../messages/stored.js";
import { type EncodedMessage, encodeMessage, parseStored, refDeltas } from "../stored-message.js";
import { conversationExists, ConversationNotFoundError, messageExists, StorageError } from "../errors.js";
import { parentKey } from "../../messages/tree.js";
import { leafUnder, missing, pathPage, place, removal, samePlace } from "../tree.js";
import type { ConversationMeta, ConversationStore } from "../types.js";
import { INLINE, isStaleRead, readBlob, type Staging, staleRead } from "./blobs.js";
import { kvStorageError } from "./errors.js";
import { DenoKvLimitError, LIMITS, tooLarge, valueSize } from "./limits.js";
import { addImported, fitting, Plan } from "./plan.js";
import { readImages, stageImages } from "./images.js";
import { type ConversationRecord, keysUnder, type LockRecord, type MessageRecord, type TrashRecord } from "./keys.js";
import { createLeases, LEASE, running } from "./lock.js";
import { type Attempt, createQueue, transact } from "./transact.js";
import { type Node, type Reader, settled, treeReader, unsettled } from "./reader.js";
import { finishRemoval, hiddenSeqs, listRemoval, MAX_REMOVAL } from "./removal.js";
import { purge, sweep } from "./trash.js";
import type { AtomicOperationLike, DenoKvLike, KvEntry, KvKey } from "./types.js";

/** A message's JSON leaves its parent out (its record holds it: reader.ts); `message` keeps `parentId` as given. */
async function encode(input: Message): Promise<EncodedMessage> {
  const { parentId, ...rest } = input;
  const encoded = await encodeMessage(rest as Message);
  if (parentId !== undefined) encoded.message.parentId = parentId;
  return encoded;
}

/** What a write that decides by the tree works on (see `deciding`). */
interface Tree {
  /** The conversation's record, as read (and checked). */
  old: ConversationRecord;
  /** Its meta, a copy to change; an old conversation's settled (reader.ts), so that the write stores it so. */
  meta: ConversationMeta;
  read: Reader;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A store sweeps up what crashes left (stale trash, loose blobs) on its first write, then at most this often. */
const SWEEP_EVERY = 60_000;

export interface DenoKvStoreOptions {
  /** Where under the database the store keeps its keys (default `["edgechat"]`): e.g. `["users", userId]`. */
  prefix?: KvKey;
  /**
   * How long the conversation's writer lock (`lockConversation`) lasts unless renewed, in ms (default 15 000; it is
   * renewed every third of it). A holder whose process dies keeps others waiting at most this long; a holder stalled
   * for longer loses the lock, and its writes to that conversation then fail with `DenoKvLockLostError` (lock.ts).
   */
  lockLease?: number;
}

/**
 * A `ConversationStore` on Deno KV (`await Deno.openKv()`, run with `--unstable-kv`; or Deno Deploy's KV).
 * Every write is one atomic commit guarded by versionstamp checks and retried on conflict, so writers in other
 * isolates or processes never lose each other's changes; images are stored once per SHA-256 and reference-
 * counted; bytes over Deno KV's 64 KiB value limit are split across keys. Closing `kv` is the caller's job.
 *
 * A conversation is a tree (../tree.ts): each message's record names its parent, so an append writes the message and
 * the meta only, and a page of the active path walks parent links in range reads (reader.ts). Conversations stored
 * before trees read as the lines they were.
 *
 * One message is stored in one commit, which checks each of its distinct images: a message with more than 99
 * (fewer when they are large: each written ahead adds a check) is refused with `DenoKvLimitError`, a
 * `StorageError`, and nothing is stored. An update checks the images it adds and drops. Imports, deletes and
 * removals split their work into as many commits as Deno KV's limits ask for (limits.ts, plan.ts). A write made under
 * the conversation's lock also checks the lock's lease: one image fewer per message.
 *
 * `lockConversation` is a lease in the database, exclusive across store instances, connections and processes
 * (lock.ts); `interruptStale` decides in one commit that checks the lease and the message.
 */
export function createDenoKvStore(kv: DenoKvLike, options: DenoKvStoreOptions = {}): ConversationStore {
  const keys = keysUnder(options.prefix ?? ["edgechat"]);
  const lease = options.lockLease ?? LEASE;
  if (!(lease > 0 && lease < Infinity)) throw new RangeError(`lockLease must be a positive number of ms, not ${String(options.lockLease)}`);
  const leases = createLeases(kv, keys, lease);
  const queue = createQueue();
  let clock = 0;
  // Strictly increasing here, and past the conversation's own last change: two changes never share an updatedAt.
  const now = (after = 0) => (clock = Math.max(clock + 1, Date.now(), after + 1));
  let swept = -Infinity;
  /** After a write: the occasional sweep. Its failure is not the write's. */
  async function tidy(): Promise<void> {
    if (Date.now() - swept < SWEEP_EVERY) return;
    swept = Date.now();
    await sweep(kv, keys).catch(() => undefined);
  }

  /**
   * The conversation's record; its versionstamp is checked by `op`: any change to the conversation retries. A
   * writer (given `op`) first finishes a removal left unfinished (a crash, another writer's), then reads again; under
   * the conversation's lock, it commits only while the lease is still this store's.
   */
  async function conversation(op: AtomicOperationLike | undefined, id: string): Promise<KvEntry<ConversationRecord>> {
    const [entry] = await Promise.all([kv.get<ConversationRecord>(keys.conversation(id)), op && leases.fence(op, id)]);
    if (entry.value === null) throw new ConversationNotFoundError(id);
    if (op && entry.value.removing) {
      await finishRemoval(kv, keys, id);
      throw staleRead(`Conversation "${id}" had a removal to finish`);
    }
    op?.check(entry);
    return entry;
  }

  /**
   * A write that decides by the tree (where an append goes, what a removal takes): `decide` reads messages after
   * the conversation's record, which `op` checks. Every write to a message writes the record too, so a commit in
   * between fails this one, and what `decide` throws on reads such a commit changed is a stale read: both run again.
   */
  async function deciding<T>(op: AtomicOperationLike | undefined, id: string, decide: (tree: Tree) => Promise<Attempt<T>>): Promise<Attempt<T>> {
    const entry = await conversation(op, id);
    const read = treeReader(kv, keys, entry.value);
    try {
      return await decide({ old: entry.value, meta: structuredClone(await settled(entry.value, read)), read });
    } catch (error) {
      if (!isStaleRead(error) && (await kv.get(entry.key)).versionstamp !== entry.versionstamp) throw staleRead(`Conversation "${id}" changed while it was read`);
      throw error;
    }
  }

  /** A reader's view of the conversation's messages: those its unfinished removal lists are hidden. */
  const readerOf = async (conv: ConversationRecord): Promise<Reader> => treeReader(kv, keys, conv, await hiddenSeqs(kv, keys, conv));

  /** The meta as `get` gives it: an old conversation's with its active leaf (reader.ts). */
  const metaOf = async (conv: ConversationRecord): Promise<ConversationMeta> => settled(conv, await readerOf(conv));

  /** A meta of the list's index (which has the meta as last written), as `get` gives it. */
  async function withLeaf(meta: ConversationMeta): Promise<ConversationMeta> {
    const conv = unsettled(meta) ? (await kv.get<ConversationRecord>(keys.conversation(meta.id))).value : null;
    const leaf = conv && (await metaOf(conv)).activeLeaf;
    return leaf ? { ...meta, activeLeaf: leaf } : meta;
  }

  /** A reader that saw no removal commit while it read (a removal's cleanup could have been half-seen) is done. */
  async function unchanged(id: string, before: ConversationRecord): Promise<void> {
    const after = (await kv.get<ConversationRecord>(keys.conversation(id))).value;
    if ((after?.removals ?? 0) !== (before.removals ?? 0)) throw staleRead(`Messages of "${id}" were removed while they were read`);
  }

  function save(op: AtomicOperationLike, old: ConversationRecord | undefined, next: ConversationRecord): void {
    if (old) op.delete(keys.byUpdated(old.meta.updatedAt, old.meta.id));
    op.set(keys.conversation(next.meta.id), next).set(keys.byUpdated(next.meta.updatedAt, next.meta.id), next.meta);
  }

  /** Change the meta alone (rename, calibration). */
  async function change(id: string, edit: (meta: ConversationMeta) => boolean): Promise<void> {
    await transact(kv, keys, async (op) => {
      const { value: old } = await conversation(op, id);
      const meta = structuredClone(old.meta);
      if (edit(meta)) meta.updatedAt = now(meta.updatedAt);
      save(op, old, { ...old, meta });
      return { value: undefined };
    });
  }

  /** The record of `encoded`, its message as placed in the tree. */
  async function record(op: AtomicOperationLike, staging: Staging, encoded: EncodedMessage, label: string): Promise<MessageRecord> {
    const body = encoder.encode(encoded.json);
    const base = { id: encoded.message.id, parent: encoded.message.parentId ?? null, images: encoded.hashes, size: body.length };
    if (body.length <= INLINE && staging.take(body.length)) return { ...base, body };
    return { ...base, blob: await staging.blob(op, label, body) };
  }

  /** Writes `encoded` over the message of `node` (`before`, as stored), in its place in the tree, with the bookkeeping. */
  async function rewrite(op: AtomicOperationLike, staging: Staging, { old, meta }: Tree, node: Node, before: StoredMessage, encoded: EncodedMessage): Promise<string[]> {
    const freed = await stageImages(kv, keys, op, staging, refDeltas(encoded.hashes, node.record.images), encoded.images);
    const message = samePlace(encoded.message, node.message);
    op.set(keys.message(old.key, node.seq), await record(op, staging, { ...encoded, message }, "body"));
    if (node.record.blob) freed.push(node.record.blob);
    adjustUsage(meta, before, message);
    meta.updatedAt = now(meta.updatedAt);
    save(op, old, { ...old, meta });
    return freed;
  }

  /**
   * Hides, in `op`, what removing `ids` takes (tree.ts: their branches too) and updates the meta (removal.ts does
   * the deleting). More than one commit can list (MAX_REMOVAL) goes newest first, a commit at a time: every message
   * of a branch newer than one of it is under that one, so each step leaves a whole tree. Returns whether this step
   * took it all.
   */
  async function hide(op: AtomicOperationLike, { old, meta: before, read }: Tree, ids: readonly string[]): Promise<Attempt<boolean>> {
    let meta = structuredClone(before);
    let removed = await removal(meta, ids, read);
    const whole = removed.length <= MAX_REMOVAL;
    if (!whole) {
      const newest = removed.slice(-MAX_REMOVAL);
      const inside = new Set(newest.map((r) => r.message.id));
      meta = structuredClone(before);
      removed = await removal(meta, newest.filter((r) => !inside.has(parentKey(r.message))).map((r) => r.message.id), read);
    }
    meta.updatedAt = now(meta.updatedAt);
    if (removed.length === 0) {
      save(op, old, { ...old, meta });
    } else {
      listRemoval(op, keys, old.key, removed.map((r) => r.seq));
      save(op, old, { ...old, meta, removing: true, removals: (old.removals ?? 0) + 1 });
    }
    return { value: whole };
  }

  const stored = async (r: MessageRecord): Promise<StoredMessage> => parseStored(decoder.decode(r.body ?? (await readBlob(kv, keys, r.blob!, r.size))));

  /** The messages, their bytes and their parents back. */
  async function decode(nodes: readonly Node[]): Promise<Message[]> {
    const messages = await Promise.all(nodes.map((n) => stored(n.record)));
    const images = await readImages(kv, keys, messages.flatMap(hashesOf));
    return messages.map((m, i) => samePlace(restoreImages(m, (hash) => images.get(hash)!), nodes[i]!.message));
  }

  /** Reads are not one snapshot: a blob deleted between two of them (a concurrent delete) means read again. */
  async function reading<T>(read: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await read();
      } catch (error) {
        if (n === 3 || !isStaleRead(error)) throw error;
      }
    }
  }

  const store: ConversationStore = {
    async list(options = {}) {
      const limit = pageSize(options.limit, "list");
      const prefix = keys.allByUpdated;
      const after = options.cursor === undefined ? undefined : parseCursor(options.cursor);
      const selector = after ? { prefix, end: keys.byUpdated(after.updatedAt, after.id) } : { prefix };
      const conversations: ConversationMeta[] = [];
      for await (const { value } of kv.list<ConversationMeta>(selector, { reverse: true, limit: limit + 1 })) conversations.push(value);
      if (conversations.length <= limit) return { conversations: await Promise.all(conversations.map(withLeaf)) };
      const extra = conversations.pop()!;
      return { conversations: await Promise.all(conversations.map(withLeaf)), next: nextCursor(conversations, options.cursor, extra) };
    },

    async get(id) {
      const { value } = await kv.get<ConversationRecord>(keys.conversation(id));
      return value ? metaOf(value) : undefined;
    },

    async create(init) {
      const id = init.id ?? newId();
      const { value } = await transact(kv, keys, async (op) => {
        const existing = await kv.get(keys.conversation(id));
        if (existing.value !== null) throw conversationExists(id);
        const created: ConversationRecord = { meta: newMeta({ ...init, id }, now()), nextSeq: 0, key: newId() };
        save(op.check(existing), undefined, created);
        return { value: created.meta };
      });
      return value;
    },

    rename: (id, title) =>
      queue(id, () =>
        change(id, (meta) => {
          meta.title = title;
          return true;
        }),
      ),

    setCalibration: (id, calibration) =>
      queue(id, () =>
        change(id, (meta) => {
          meta.calibration = structuredClone(calibration);
          return false;
        }),
      ),

    delete: (id) =>
      queue(id, async () => {
        // One commit makes the conversation disappear; its messages go afterwards, batch by batch.
        const { value: key } = await transact(kv, keys, async (op) => {
          const entry = await kv.get<ConversationRecord>(keys.conversation(id));
          if (entry.value === null) return { value: undefined, skip: true };
          const { meta, key } = entry.value;
          op.check(entry).delete(entry.key).delete(keys.byUpdated(meta.updatedAt, meta.id));
          op.set(keys.trash(key), { since: Date.now() } satisfies TrashRecord);
          return { value: key };
        });
        // The delete has happened: a failure from here on only leaves trash for a later sweep.
        if (key !== undefined) await purge(kv, keys, key).catch(() => undefined);
        await sweep(kv, keys).catch(() => undefined);
      }),

    loadMessages: (id, options = {}) =>
      reading(async () => {
        const limit = pageSize(options.limit, "loadMessages");
        const before = beforeCursor(options.before);
        const { value: conv } = await conversation(undefined, id);
        const read = await readerOf(conv);
        const { page, before: next } = await pathPage((await settled(conv, read)).activeLeaf, limit, before, read);
        const messages = await decode(page);
        await unchanged(id, conv);
        return next === undefined ? { messages } : { messages, before: next };
      }),

    async appendMessage(id, input) {
      const encoded = await encode(input);
      await queue(id, () =>
        transact(kv, keys, (op, staging) =>
          deciding(op, id, async ({ old, meta, read }) => {
            const idKey = keys.messageId(old.key, encoded.message.id);
            if ((await kv.get(idKey)).value !== null) throw messageExists(encoded.message.id);
            const { message, existing } = await place(meta, encoded.message, read);
            // The seq comes from the checked record: two appends that read the same nextSeq cannot both commit.
            const seq = old.nextSeq;
            // Images first: their checks come before anything is written ahead (see stageImages).
            const freed = await stageImages(kv, keys, op, staging, refDeltas(encoded.hashes, []), encoded.images);
            op.set(keys.message(old.key, seq), await record(op, staging, { ...encoded, message }, "body")).set(idKey, seq);
            countIn(meta, message, existing);
            meta.updatedAt = now(meta.updatedAt);
            save(op, old, { ...old, meta, nextSeq: seq + 1 });
            return { value: undefined, freed };
          }),
        ),
      );
      await tidy();
    },

    async updateMessage(id, input) {
      const encoded = await encode(input);
      await queue(id, () =>
        transact(kv, keys, (op, staging) =>
          deciding(op, id, async (tree) => {
            const node = await tree.read.find(encoded.message.id);
            if (!node) throw missing(id, encoded.message.id);
            return { value: undefined, freed: await rewrite(op, staging, tree, node, await stored(node.record), encoded) };
          }),
        ),
      );
      await tidy();
    },

    removeMessages: (id, messageIds) =>
      queue(id, async () => {
        for (let whole = false; !whole; ) {
          ({ value: whole } = await transact(kv, keys, (op) => deciding(op, id, (tree) => hide(op, tree, messageIds))));
          // The removal stands: a failure from here on leaves the deleting to the next write to the conversation.
          await finishRemoval(kv, keys, id).catch(() => undefined);
        }
        await tidy();
      }),

    switchTo: (id, messageId) =>
      queue(id, async () => {
        const { value } = await transact(kv, keys, (op) =>
          deciding(op, id, async ({ old, meta, read }) => {
            meta.activeLeaf = await leafUnder(meta, messageId, read);
            meta.updatedAt = now(meta.updatedAt);
            save(op, old, { ...old, meta });
            return { value: meta.activeLeaf };
          }),
        );
        return value;
      }),

    export: (id) =>
      reading(async () => {
        const { value: conv } = await conversation(undefined, id);
        const read = await readerOf(conv);
        // Every branch, in the order stored: a parent before its children.
        const messages = await decode(await read.after(0, Infinity));
        await unchanged(id, conv);
        return exportDocument(await settled(conv, read), messages);
      }),

    async import(document) {
      const parsed = parseConversationJSON(document);
      const duplicate = () => conversationExists(parsed.id);
      if ((await kv.get(keys.conversation(parsed.id))).value !== null) throw duplicate();
      const encoded = await Promise.all(parsed.messages.map(encode));
      const meta = importedMeta(parsed, 0);
      countTree(meta, parsed.messages, parsed.activeLeaf);
      spentOnImport(meta, parsed);

      // The messages go in first, under a new key marked as trash (purged if the import dies midway), then
      // one commit creates the conversation and clears the mark. As many messages per commit as Deno KV's limits
      // allow (plan.ts); a message with more images than one commit can check fails the import before anything is written.
      const key = newId();
      const trashKey = keys.trash(key);
      const mark: TrashRecord = { since: Date.now(), importing: parsed.id };
      const base = () => {
        const plan = new Plan(keys);
        plan.tally.check(trashKey);
        plan.tally.set(trashKey, valueSize(mark));
        return plan;
      };
      for (const [seq, m] of encoded.entries()) {
        const alone = base();
        addImported(alone, keys, key, seq, m);
        // Its checks alone (the trash mark's, one per distinct image) are the least its commit takes.
        if (alone.tally.checks > LIMITS.checks) throw tooLarge("checks");
      }
      let { versionstamp } = await transact(kv, keys, async (op) => {
        op.check({ key: trashKey, versionstamp: null }).set(trashKey, mark);
        return { value: undefined };
      });
      const ownMark = async (op: AtomicOperationLike) => {
        const entry = await kv.get<TrashRecord>(trashKey);
        if (entry.versionstamp !== versionstamp) throw new StorageError(`The import of "${parsed.id}" was interrupted (purged as stale): nothing was stored`);
        op.check(entry);
        return entry;
      };
      try {
        let cap = Infinity;
        for (let i = 0; i < encoded.length; ) {
          const next = encoded.slice(i, i + Math.min(cap, 1000));
          const batch = next.slice(0, fitting(base(), next, (plan, m, j) => addImported(plan, keys, key, i + j, m)));
          try {
            ({ versionstamp } = await transact(kv, keys, async (op, staging) => {
              op.set(trashKey, (await ownMark(op)).value);
              const images = new Map<string, Uint8Array>();
              for (const m of batch) for (const [hash, bytes] of m.images) images.set(hash, bytes);
              const freed = await stageImages(kv, keys, op, staging, refDeltas(batch.flatMap((m) => m.hashes), []), images);
              for (const [j, m] of batch.entries()) {
                op.set(keys.message(key, i + j), await record(op, staging, m, `body:${j}`)).set(keys.messageId(key, m.message.id), i + j);
              }
              return { value: undefined, freed };
            }));
          } catch (error) {
            // The plan counts from above, so this is not expected; should it happen, half as many per commit.
            if (!(error instanceof DenoKvLimitError) || batch.length === 1) throw error;
            cap = Math.ceil(batch.length / 2);
            continue;
          }
          i += batch.length;
        }
        await transact(kv, keys, async (op) => {
          const existing = await kv.get(keys.conversation(parsed.id));
          if (existing.value !== null) throw duplicate();
          await ownMark(op);
          op.check(existing).delete(trashKey);
          meta.updatedAt = now();
          save(op, undefined, { meta, nextSeq: encoded.length, key });
          return { value: undefined };
        });
        await tidy();
        return meta;
      } catch (error) {
        await purge(kv, keys, key).catch(() => undefined);
        throw error;
      }
    },

    interruptStale: (id, messageId) =>
      queue(id, async () => {
        const { value } = await transact(kv, keys, (op, staging) => {
          // Held by this store: its writer is alive, and this attempt writes nothing, so it reads without a writer's
          // fence (which a lost lease would fail) and checks nothing.
          const held = leases.holds(id);
          return deciding(held ? undefined : op, id, async (tree) => {
            const node = await tree.read.find(messageId);
            if (!node) return { value: undefined, skip: true };
            const [message] = await decode([node]);
            if (message?.role !== "assistant" || message.status !== "streaming") return { value: message, skip: true };
            // Held here or elsewhere: its writer is alive. A lease taken after this read fails the commit: decide again.
            const lock = await kv.get<LockRecord>(keys.lock(id));
            if (held || leases.holds(id) || running(lock)) return { value: message, skip: true };
            // The message needs no check of its own: the conversation's record, checked, changes with it.
            op.check(lock);
            const encoded = await encode(interrupted(message));
            return { value: encoded.message, freed: await rewrite(op, staging, tree, node, message, encoded) };
          });
        });
        await tidy();
        return value && structuredClone(value);
      }),
  };
  // Outside the guard: what fn throws, and an aborted wait's reason, reach the caller as they are.
  return { ...guardStore(store, kvStorageError), lockConversation: (id, fn, options) => leases.run(id, fn, options) };
}
