// The test Worker (bundled by ../durable-object.test.ts with vite, run in workerd by miniflare, no nodejs_compat).
//   /run/object/<test>  one contract test inside a fresh Durable Object, on createDurableObjectStore(ctx.storage)
//   /run/rpc/<test>     one contract test here in the Worker, on connectDurableObjectStore(stub of a fresh object)
//   /vanish/*           a caller that goes away while it holds or waits for the lock (vanishing.ts)
//   /legacy             a database version 1 of the store wrote, opened by this one (legacy.ts)
//   /persist/write, /persist/read, /images, /errors, /globals: the other tests in ../durable-object.test.ts
import { DurableObject } from "cloudflare:workers";
import { ValidationError } from "../../../src/errors/validation.ts";
import type { Message } from "../../../src/messages/types.ts";
import { connectDurableObjectStore, ConversationStoreObject, createDurableObjectStore } from "../../../src/store/durable-object/index.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import type { ConversationStore } from "../../../src/store/types.ts";
import { type Footprint, storeContract } from "../contract.ts";
import { openVersion1 } from "./legacy.ts";
import { vanishing } from "./vanishing.ts";

export type Outcome = { ok: true } | { ok: false; error: string };

interface Namespace {
  idFromName(name: string): unknown;
  /** Really an RPC stub: every method returns a Promise. */
  get(id: unknown): TestConversations;
}
interface Env {
  STORE: Namespace;
}

/**
 * The contract's tests by name, each given stores from `makeStore` (all on one object, whose image tables `tables`
 * reads); `makeStore` also makes the second handle the lock tests race against the first.
 */
function contractTests(makeStore: () => ConversationStore, tables: () => Promise<Tables> | Tables): Map<string, () => Promise<void>> {
  const tests = new Map<string, () => Promise<void>>();
  const footprint = async (): Promise<Footprint> => {
    const { images, chunks } = await tables();
    return { images: images.length, chunks: chunks.length };
  };
  storeContract({ define: (name, fn) => tests.set(name, fn), makeStore, sibling: makeStore, footprint, errors: { ValidationError, StorageError, ConversationNotFoundError } });
  return tests;
}

interface Tables {
  images: Record<string, unknown>[];
  chunks: Record<string, unknown>[];
}

async function run(tests: Map<string, () => Promise<void>>, name: string): Promise<Outcome> {
  const test = tests.get(name);
  if (!test) return { ok: false, error: `no contract test named "${name}"` };
  try {
    await test();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error) };
  }
}

export class TestConversations extends ConversationStoreObject(DurableObject) {
  runContract(name: string): Promise<Outcome> {
    return run(contractTests(() => createDurableObjectStore(this.ctx.storage), () => this.tables()), name);
  }

  /** Replaces this object's tables with version 1's, then opens them (legacy.ts). */
  openVersion1(): ReturnType<typeof openVersion1> {
    return openVersion1(this.ctx.storage);
  }

  /** What the image tables hold. */
  tables(): Tables {
    const { sql } = this.ctx.storage;
    return {
      images: sql.exec("SELECT hash, size, refs FROM edgechat_images ORDER BY hash").toArray(),
      chunks: sql.exec("SELECT hash, n, length(bytes) AS size FROM edgechat_image_chunks ORDER BY hash, n").toArray(),
    };
  }
}

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + (i >> 9)) & 255);
const imageMessage = (id: string, data: Uint8Array): Message => ({
  id,
  role: "user",
  createdAt: 1_764_000_000_000,
  content: [{ type: "text", text: "look" }, { type: "image", data, mimeType: "image/png", width: 640, height: 480 }],
});
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error & Record<string, unknown>);

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const stub = (name: string) => env.STORE.get(env.STORE.idFromName(name));
    const path = new URL(request.url).pathname.split("/").map(decodeURIComponent);

    if (path[1] === "run" && path[2] === "object") return Response.json(await stub(`object:${path[3]}`).runContract(path[3]!));
    if (path[1] === "run" && path[2] === "rpc") {
      // A fresh stub per store: the sibling is another client of the same object, as another Worker would be.
      const object = stub(`rpc:${path[3]}`);
      return Response.json(await run(contractTests(() => connectDurableObjectStore(stub(`rpc:${path[3]}`)), () => object.tables()), path[3]!));
    }

    if (path[1] === "vanish") {
      const answer = await vanishing(path[2]!, connectDurableObjectStore(stub(`vanish:${path[3]}`)));
      if (answer) return answer;
    }

    if (path[1] === "legacy") return Response.json(await stub("legacy").openVersion1());

    if (path[1] === "persist") {
      const store = connectDurableObjectStore(stub("persist"));
      if (path[2] === "write") {
        await store.create({ id: "kept", model: "m", title: "Kept" });
        await store.appendMessage("kept", imageMessage("m1", bytes(5000, 13)));
        return Response.json({ ok: true });
      }
      return Response.json({ meta: await store.get("kept"), exported: await store.export("kept").catch(String) });
    }

    if (path[1] === "images") {
      // One 3 MB image (over SQLite's 2 MiB value cap: stored in chunks) in two conversations: stored once.
      const object = stub("images");
      const store = connectDurableObjectStore(object);
      const big = bytes(3_000_000, 31);
      const a = await store.create({ model: "m" });
      const b = await store.create({ model: "m" });
      await store.appendMessage(a.id, imageMessage("a1", big));
      await store.appendMessage(b.id, imageMessage("b1", big.slice()));
      const shared = await object.tables();
      const loaded = (await store.loadMessages(b.id)).messages[0]!;
      const part = typeof loaded.content === "string" ? undefined : loaded.content[1];
      const roundTrip = part !== undefined && "data" in part && same(part.data, big);
      await store.delete(a.id);
      const afterDelete = await object.tables();
      await store.removeMessages(b.id, ["b1"]);
      return Response.json({ shared, roundTrip, afterDelete, afterRemove: await object.tables() });
    }

    if (path[1] === "errors") {
      const object = stub("errors");
      const store = connectDurableObjectStore(object);
      const notFound = await caught(store.loadMessages("missing"));
      const invalid = await caught(store.import({ format: "edgechat.conversation", version: 1, id: "x", model: "m", createdAt: 1, messages: [{}] }));
      await store.create({ id: "twice", model: "m" });
      const duplicate = await caught(store.create({ id: "twice", model: "m" }));
      return Response.json({
        notFound: { name: notFound?.name, isNotFound: notFound instanceof ConversationNotFoundError, isStorage: notFound instanceof StorageError, id: notFound?.id },
        invalid: { name: invalid?.name, isValidation: invalid instanceof ValidationError, issues: invalid?.issues, message: invalid?.message },
        duplicate: { name: duplicate?.name, isStorage: duplicate instanceof StorageError, message: duplicate?.message },
        notAMethod: await object.conversationStore("constructor", []),
      });
    }

    if (path[1] === "globals") {
      const g = globalThis as Record<string, unknown>;
      return Response.json({ process: typeof g.process, Buffer: typeof g.Buffer, require: typeof g.require });
    }
    return new Response("not found", { status: 404 });
  },
};
