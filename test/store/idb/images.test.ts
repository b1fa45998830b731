// Images are stored once, as Blobs keyed by their SHA-256, and deleted with their last user.
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import type { UserMessage } from "../../../src/messages/types.ts";
import { bytesToBase64 } from "../../../src/messages/base64.ts";
import { all, dbName, makeStore, pixels, sameBytes, sha256 } from "./helpers.ts";

let k = 0;
const photoMessage = (...images: Uint8Array[]): UserMessage => ({
  id: `m${k++}`,
  role: "user",
  createdAt: 1,
  content: [{ type: "text", text: "see" }, ...images.map((data) => ({ type: "image" as const, data, mimeType: "image/png" }))],
});

describe("IndexedDB store: images", () => {
  it("stores the same image once, as a Blob under its SHA-256, never as base64 in a message", async () => {
    const name = dbName("dedup");
    const store = makeStore({ name });
    const a = pixels(20_000, 3);
    const b = pixels(9_000, 5);
    const one = await store.create({ model: "m", id: "one" });
    const two = await store.create({ model: "m", id: "two" });
    await store.appendMessage(one.id, photoMessage(a, a.slice())); // twice in one message
    await store.appendMessage(one.id, photoMessage(a.slice(), b));
    await store.appendMessage(two.id, photoMessage(a.slice()));

    const raw = await all(name);
    expect(raw.images.map((i) => i.hash).sort()).toEqual([sha256(a), sha256(b)].sort());
    for (const image of raw.images) {
      expect(image.blob).toBeInstanceOf(Blob);
      expect(image.blob.type).toBe("image/png");
      expect(sha256(new Uint8Array(await image.blob.arrayBuffer()))).toBe(image.hash);
    }
    const text = JSON.stringify(raw.messages);
    expect(text).not.toContain(bytesToBase64(a).slice(0, 64));
    expect(raw.messages.map((m) => m.images)).toEqual([[sha256(a), sha256(a)], [sha256(a), sha256(b)], [sha256(a)]]);
    expect(JSON.stringify(raw.messages, (_k, v) => (v instanceof Uint8Array || v instanceof Blob ? "BYTES" : v))).not.toContain("BYTES");

    // Read back: bytes, one fresh copy per part.
    const [first] = (await store.loadMessages(one.id)).messages;
    const parts = first!.content as unknown as { data?: Uint8Array }[];
    expect(sameBytes(parts[1]!.data, a)).toBe(true);
    expect(sameBytes(parts[2]!.data, a)).toBe(true);
    expect(parts[1]!.data === parts[2]!.data).toBe(false);
  });

  it("deleting a conversation keeps images another one uses, and removes those nobody uses", async () => {
    const name = dbName("release");
    const store = makeStore({ name });
    const shared = pixels(4_000, 7);
    const own = pixels(3_000, 9);
    const one = await store.create({ model: "m" });
    const two = await store.create({ model: "m" });
    await store.appendMessage(one.id, photoMessage(shared, own));
    await store.appendMessage(two.id, photoMessage(shared));

    await store.delete(one.id);
    expect((await all(name)).images.map((i) => i.hash)).toEqual([sha256(shared)]);
    expect(sameBytes(((await store.loadMessages(two.id)).messages[0]!.content as unknown as { data?: Uint8Array }[])[1]!.data, shared)).toBe(true);

    await store.delete(two.id);
    const raw = await all(name);
    expect(raw.images).toEqual([]);
    expect(raw.messages).toEqual([]);
    expect(raw.conversations).toEqual([]);
  });

  it("removing or editing a message releases the images it no longer uses", async () => {
    const name = dbName("edit");
    const store = makeStore({ name });
    const a = pixels(1_000, 3);
    const b = pixels(1_000, 5);
    const c = pixels(1_000, 7);
    const { id } = await store.create({ model: "m" });
    const m1 = photoMessage(a);
    const m2 = photoMessage(b);
    await store.appendMessage(id, m1);
    await store.appendMessage(id, m2);

    await store.updateMessage(id, { ...m1, content: [{ type: "image", data: c, mimeType: "image/webp" }] });
    expect((await all(name)).images.map((i) => i.hash).sort()).toEqual([sha256(b), sha256(c)].sort());
    expect((await store.loadMessages(id)).messages[0]!.content).toEqual([{ type: "image", data: c, mimeType: "image/webp" }]);

    await store.removeMessages(id, [m2.id]);
    expect((await all(name)).images.map((i) => i.hash)).toEqual([sha256(c)]);
  });

  it("export carries the bytes as base64 and import stores them once again", async () => {
    const name = dbName("roundtrip");
    const store = makeStore({ name });
    const a = pixels(2_000, 3);
    const { id } = await store.create({ model: "m" });
    await store.appendMessage(id, photoMessage(a));
    await store.appendMessage(id, photoMessage(a));
    const doc = JSON.parse(JSON.stringify(await store.export(id)));
    expect(doc.messages[0].content[1]).toEqual({ type: "image", data: bytesToBase64(a), mimeType: "image/png" });
    await store.import({ ...doc, id: "copy" });
    const raw = await all(name);
    expect(raw.images.map((i) => i.hash)).toEqual([sha256(a)]);
    expect(raw.messages.length).toBe(4);
  });
});
