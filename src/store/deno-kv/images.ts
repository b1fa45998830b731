// Image bytes stored once per SHA-256, with a reference count checked (versionstamp) in every commit that
// changes it, so that two conversations adding or dropping the same image at once never lose a count.
import { StorageError } from "../errors.js";
import { readBlob, type Staging, staleRead } from "./blobs.js";
import type { ImageRecord, Keys } from "./keys.js";
import { getAll } from "./transact.js";
import type { AtomicOperationLike, DenoKvLike } from "./types.js";

/** Add the reference changes (hash → ±n) to `op`; returns the blobs of images left with none. */
export async function stageImages(
  kv: DenoKvLike,
  keys: Keys,
  op: AtomicOperationLike,
  staging: Staging,
  deltas: ReadonlyMap<string, number>,
  bytes: ReadonlyMap<string, Uint8Array>,
): Promise<string[]> {
  const hashes = [...deltas.keys()];
  const entries = await getAll<ImageRecord>(kv, hashes.map(keys.image));
  const freed: string[] = [];
  // Every check first: a change with more images than one commit can check fails before any bytes are written ahead.
  for (const entry of entries) op.check(entry);
  for (const [i, entry] of entries.entries()) {
    const hash = hashes[i]!;
    const delta = deltas.get(hash)!;
    if (entry.value) {
      const refs = entry.value.refs + delta;
      if (refs > 0) {
        op.set(entry.key, { ...entry.value, refs });
      } else {
        op.delete(entry.key);
        freed.push(entry.value.blob);
      }
    } else if (delta > 0) {
      const data = bytes.get(hash);
      if (!data) throw new StorageError(`The bytes of image ${hash} are missing`);
      const record: ImageRecord = { size: data.length, refs: delta, blob: await staging.blob(op, `image:${hash}`, data) };
      op.set(entry.key, record);
    }
  }
  return freed;
}

/** The bytes of each image. A missing one means a concurrent delete: the caller reads again. */
export async function readImages(kv: DenoKvLike, keys: Keys, hashes: Iterable<string>): Promise<Map<string, Uint8Array>> {
  const distinct = [...new Set(hashes)];
  const entries = await getAll<ImageRecord>(kv, distinct.map(keys.image));
  const out = new Map<string, Uint8Array>();
  for (const [i, entry] of entries.entries()) {
    if (!entry.value) throw staleRead(`Image ${distinct[i]} is missing`);
    out.set(distinct[i]!, await readBlob(kv, keys, entry.value.blob, entry.value.size));
  }
  return out;
}
