// Image bytes, stored once per SHA-256 and counted: a message's image parts add references, removing the
// message (or the conversation) drops them, and the bytes go with the last one.
import { StorageError } from "../errors.js";
import type { DurableObjectStorageLike } from "./types.js";

/** Under the 2 MiB cap SQLite has in a Durable Object for one value. */
const CHUNK = 1 << 20;

type Sql = DurableObjectStorageLike["sql"];

/** Apply reference changes (hash → ±n). New images need their bytes in `bytes`. Call inside a transaction. */
export function applyImageDeltas(sql: Sql, deltas: ReadonlyMap<string, number>, bytes: ReadonlyMap<string, Uint8Array>): void {
  for (const [hash, delta] of deltas) {
    const row = sql.exec("SELECT refs FROM edgechat_images WHERE hash = ?", hash).toArray()[0];
    if (row) {
      const refs = Number(row.refs) + delta;
      if (refs > 0) {
        sql.exec("UPDATE edgechat_images SET refs = ? WHERE hash = ?", refs, hash);
      } else {
        sql.exec("DELETE FROM edgechat_images WHERE hash = ?", hash);
        sql.exec("DELETE FROM edgechat_image_chunks WHERE hash = ?", hash);
      }
    } else if (delta > 0) {
      const data = bytes.get(hash);
      if (!data) throw new StorageError(`The bytes of image ${hash} are missing`);
      sql.exec("INSERT INTO edgechat_images (hash, size, refs) VALUES (?, ?, ?)", hash, data.length, delta);
      for (let n = 0; n * CHUNK < data.length; n++) {
        sql.exec("INSERT INTO edgechat_image_chunks (hash, n, bytes) VALUES (?, ?, ?)", hash, n, data.slice(n * CHUNK, (n + 1) * CHUNK));
      }
    }
  }
}

/** The bytes of each image, read back from its chunks. */
export function readImages(sql: Sql, hashes: Iterable<string>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const hash of hashes) {
    if (out.has(hash)) continue;
    const row = sql.exec("SELECT size FROM edgechat_images WHERE hash = ?", hash).toArray()[0];
    if (!row) throw new StorageError(`Image ${hash} is missing`);
    const bytes = new Uint8Array(Number(row.size));
    let offset = 0;
    for (const { bytes: chunk } of sql.exec("SELECT bytes FROM edgechat_image_chunks WHERE hash = ? ORDER BY n", hash).toArray()) {
      if (!(chunk instanceof ArrayBuffer) || offset + chunk.byteLength > bytes.length) throw new StorageError(`Image ${hash} is damaged`);
      bytes.set(new Uint8Array(chunk), offset);
      offset += chunk.byteLength;
    }
    if (offset !== bytes.length) throw new StorageError(`Image ${hash} is incomplete`);
    out.set(hash, bytes);
  }
  return out;
}
