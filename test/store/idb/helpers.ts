// Shared by the IndexedDB store's tests on fake-indexeddb (import "fake-indexeddb/auto" first).
import { createHash } from "node:crypto";
import { openDB } from "idb";
import { afterEach } from "vitest";
import { createIndexedDBStore, type IndexedDBStore, type IndexedDBStoreOptions } from "../../../src/store/idb/index.ts";
import type { Schema } from "../../../src/store/idb/schema.ts";

let n = 0;
const run = Math.random().toString(36).slice(2, 8);
/** A database name no other test uses (BroadcastChannel names, derived from it, are process-wide in Node). */
export const dbName = (what: string) => `${what}-${run}-${n++}`;

const opened: { close(): void }[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** A store closed after the test. */
export function makeStore(options: IndexedDBStoreOptions = {}): IndexedDBStore {
  const store = createIndexedDBStore({ name: dbName("store"), ...options });
  opened.push(store);
  return store;
}

/** A plain idb connection to the database at its current version (no upgrade), closed after the test. */
export async function raw(name: string) {
  const db = await openDB<Schema>(name);
  opened.push(db);
  return db;
}

export async function all(name: string) {
  const db = await openDB<Schema>(name);
  const out = { conversations: await db.getAll("conversations"), messages: await db.getAll("messages"), images: await db.getAll("images") };
  db.close();
  return out;
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export const pixels = (length: number, seed: number) => new Uint8Array(length).map((_, i) => (i * seed + 11) & 255);

/** Resolves when `check` returns true (polled), or fails after `ms`. */
export async function until(check: () => boolean, ms = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** vitest's toEqual walks a typed array key by key (half a second for 20 kB): compare bytes directly. */
export function sameBytes(actual: unknown, expected: Uint8Array): boolean {
  return actual instanceof Uint8Array && Buffer.compare(actual, expected) === 0;
}
