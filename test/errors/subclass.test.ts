// Subclassing edgechat's errors (issue 15, "Bugs", third bullet). The classes answer `instanceof` by a list of kinds
// each error carries (so it holds across two copies of the package); a user's own subclass must be an instance of
// every edgechat class above it, and `instanceof` the user's class must work as for any class.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as sdk from "../../src/index.ts";
import {
  APIError,
  BadRequestError,
  BrowserKeyError,
  ContextBudgetError,
  ContextLengthError,
  Conversation,
  type ConversationChange,
  ConversationNotFoundError,
  type ConversationStore,
  createClient,
  createMemoryStore,
  EdgeChatError,
  ImageLimitError,
  InternalServerError,
  isEdgeChatError,
  type Message,
  RateLimitError,
  SSEBufferOverflowError,
  StorageError,
  StorageQuotaError,
  StreamInterruptedError,
  UnsupportedImageError,
  ValidationError,
} from "../../src/index.ts";
import { DenoKvLimitError, DenoKvLockLostError } from "../../src/store/deno-kv/index.ts";
import { DatabaseBlockedError } from "../../src/store/idb/index.ts";
import { MODEL, startUpstream, streamReply, type Upstream } from "../helpers/upstream.ts";

type Class = abstract new (...args: never[]) => unknown;

/** Asserts `value` is an instance of each of `yes` and of none of `no`, and that Vitest's matcher agrees. */
function expectInstances(value: unknown, yes: readonly Class[], no: readonly Class[]) {
  for (const C of yes) {
    expect(value instanceof C, `instanceof ${C.name}`).toBe(true);
    expect(value).toBeInstanceOf(C);
  }
  for (const C of no) {
    expect(value instanceof C, `not instanceof ${C.name}`).toBe(false);
    expect(value).not.toBeInstanceOf(C);
  }
}

const apiInit = (status: number) => ({ status, headers: new Headers({ "x-request-id": "r1" }), body: { detail: "no" }, serverMessage: "no", retryable: false });

// Depth 1 and 2 under each of four edgechat classes, with their own constructor, fields and methods.
class MyError extends EdgeChatError {
  readonly code = "MINE";
  constructor() {
    super("mine");
  }
}
class MyDeepError extends MyError {
  deep() {
    return "deep";
  }
}
class MyAPIError extends APIError {
  readonly attempt: number;
  constructor(attempt: number) {
    super(apiInit(418));
    this.attempt = attempt;
  }
}
class MyDeepAPIError extends MyAPIError {}
class MyStorageError extends StorageError {
  constructor(readonly key: string) {
    super(`cannot write ${key}`);
  }
}
class MyDeepStorageError extends MyStorageError {}
class MyQuota extends StorageQuotaError {
  readonly usedBytes = 5_000_000;
}
class MyDeepQuota extends MyQuota {
  constructor() {
    super({ cause: new Error("ENOSPC") });
    this.name = "MyDeepQuota";
  }
}

describe("a user's subclass of an edgechat error", () => {
  const unrelated: Class[] = [RateLimitError, InternalServerError, ValidationError, StreamInterruptedError, ConversationNotFoundError, ContextBudgetError, TypeError];

  it("of EdgeChatError, at depth 1 and 2", () => {
    const one = new MyError();
    const two = new MyDeepError();
    expectInstances(one, [MyError, EdgeChatError, Error], [MyDeepError, APIError, StorageError, ...unrelated]);
    expectInstances(two, [MyDeepError, MyError, EdgeChatError, Error], [APIError, StorageError, ...unrelated]);
    expect(two.deep()).toBe("deep");
    expect(two.code).toBe("MINE");
    expect([one.name, two.name]).toEqual(["EdgeChatError", "EdgeChatError"]);
  });

  it("of APIError, at depth 1 and 2", () => {
    const one = new MyAPIError(1);
    const two = new MyDeepAPIError(2);
    expectInstances(one, [MyAPIError, APIError, EdgeChatError, Error], [MyDeepAPIError, BadRequestError, ContextLengthError, StorageError, MyError, ...unrelated]);
    expectInstances(two, [MyDeepAPIError, MyAPIError, APIError, EdgeChatError, Error], [BadRequestError, ContextLengthError, StorageError, MyError, ...unrelated]);
    expect(two).toMatchObject({ attempt: 2, status: 418, requestID: "r1", name: "APIError", message: "418 Error: no" });
  });

  it("of StorageError, at depth 1 and 2", () => {
    const one = new MyStorageError("a");
    const two = new MyDeepStorageError("b");
    expectInstances(one, [MyStorageError, StorageError, EdgeChatError, Error], [MyDeepStorageError, StorageQuotaError, APIError, MyQuota, ...unrelated]);
    expectInstances(two, [MyDeepStorageError, MyStorageError, StorageError, EdgeChatError, Error], [StorageQuotaError, APIError, MyQuota, ...unrelated]);
    expect(two).toMatchObject({ key: "b", message: "cannot write b", name: "StorageError" });
  });

  it("of StorageQuotaError, at depth 1 and 2", () => {
    const one = new MyQuota();
    const two = new MyDeepQuota();
    expectInstances(one, [MyQuota, StorageQuotaError, StorageError, EdgeChatError, Error], [MyDeepQuota, MyStorageError, APIError, ...unrelated]);
    expectInstances(two, [MyDeepQuota, MyQuota, StorageQuotaError, StorageError, EdgeChatError, Error], [MyStorageError, APIError, ...unrelated]);
    expect(one.name).toBe("StorageQuotaError"); // the nearest edgechat kind, as a plain `extends Error` keeps "Error"
    expect(two.name).toBe("MyDeepQuota"); // a name the subclass sets is kept
    expect(two.usedBytes).toBe(5_000_000);
    expect((two.cause as Error).message).toBe("ENOSPC");
    expect(two.stack).toContain("MyDeepQuota");
  });

  it("under a subclass edgechat declares in another folder (DenoKvLimitError → StorageError)", () => {
    class MyLimit extends DenoKvLimitError {}
    class MyDeepLimit extends MyLimit {}
    const error = new MyDeepLimit("bytes", "too big");
    expectInstances(error, [MyDeepLimit, MyLimit, DenoKvLimitError, StorageError, EdgeChatError], [MyQuota, StorageQuotaError, DenoKvLockLostError, DatabaseBlockedError, ...unrelated]);
    expect(error).toMatchObject({ limit: "bytes", name: "DenoKvLimitError" });
  });

  it("does not make the user's class accept its parents' instances, or its siblings'", () => {
    expectInstances(new StorageQuotaError(), [StorageQuotaError], [MyQuota, MyDeepQuota]);
    expectInstances(new MyQuota(), [MyQuota], [MyDeepQuota]);
    expectInstances(new EdgeChatError("x"), [EdgeChatError], [MyError, MyAPIError, MyStorageError, MyQuota]);
    expectInstances(new APIError(apiInit(400)), [APIError], [MyAPIError]);
    class Sibling extends StorageQuotaError {}
    expectInstances(new Sibling(), [StorageQuotaError], [MyQuota]);
    expectInstances(new MyQuota(), [StorageQuotaError], [Sibling]);
  });

  it("is an EdgeChatError for isEdgeChatError", () => {
    for (const error of [new MyError(), new MyDeepAPIError(1), new MyDeepStorageError("k"), new MyDeepQuota()]) expect(isEdgeChatError(error)).toBe(true);
  });

  it("can override Symbol.hasInstance itself, as with any class", () => {
    class Duck extends EdgeChatError {
      static override [Symbol.hasInstance](value: unknown) {
        return typeof value === "object" && value !== null && "quack" in value;
      }
    }
    expect({ quack: 1 } instanceof Duck).toBe(true);
    expect(new Duck("d") instanceof Duck).toBe(false);
    expect(new Duck("d") instanceof EdgeChatError).toBe(true);
  });
});

describe("edgechat's own classes", () => {
  // Every class declared with its own `static kind`, in src/errors and elsewhere, with its edgechat ancestors.
  const cases: [EdgeChatError, Class[]][] = [
    [new BadRequestError(apiInit(400)), [BadRequestError, APIError]],
    [new ContextLengthError(apiInit(500), { limit: 1, requested: 2, promptTokens: 2, completionTokens: undefined }), [ContextLengthError, APIError]],
    [new StreamInterruptedError(), [StreamInterruptedError]],
    [new ValidationError("chunk", [{ path: "a", message: "b" }]), [ValidationError]],
    [new StorageError("s"), [StorageError]],
    [new StorageQuotaError(), [StorageQuotaError, StorageError]],
    [new ConversationNotFoundError("c"), [ConversationNotFoundError, StorageError]],
    [new DenoKvLimitError("checks", "m"), [DenoKvLimitError, StorageError]],
    [new DenoKvLockLostError("c"), [DenoKvLockLostError, StorageError]],
    [new DatabaseBlockedError("db"), [DatabaseBlockedError, StorageError]],
    [new SSEBufferOverflowError(10), [SSEBufferOverflowError]],
    [new ContextBudgetError(10, 5), [ContextBudgetError]],
    [new ImageLimitError(2, 1), [ImageLimitError]],
    [new UnsupportedImageError("image/bmp"), [UnsupportedImageError]],
    [new BrowserKeyError(), [BrowserKeyError]],
  ];
  const all = [...new Set(cases.flatMap(([, classes]) => classes))];

  it("are instances of exactly their own class and its edgechat ancestors, and are named after their class", () => {
    for (const [error, classes] of cases) {
      const name = (classes[0] as unknown as { kind: string }).kind;
      expect(error.name, name).toBe(name);
      expectInstances(error, [...classes, EdgeChatError, Error], all.filter((C) => !classes.includes(C)));
    }
  });
});

describe("what is not an edgechat error", () => {
  const classes: Class[] = [EdgeChatError, APIError, RateLimitError, StorageError, StorageQuotaError, MyError, MyQuota];

  it("a plain Error, a TypeError, a look-alike object, primitives", () => {
    const lookAlike = Object.assign(new Error("full"), { name: "StorageQuotaError", kind: "StorageQuotaError" });
    for (const value of [new Error("x"), new TypeError("x"), lookAlike, { name: "RateLimitError", status: 429 }, "StorageQuotaError", 429, null, undefined]) {
      expectInstances(value, [], classes);
      expect(isEdgeChatError(value)).toBe(false);
    }
  });

  it("an edgechat error of an unrelated class", () => {
    expectInstances(new ContextBudgetError(10, 5), [EdgeChatError], [APIError, StorageError, StorageQuotaError, MyQuota]);
    expectInstances(new ConversationNotFoundError("c"), [StorageError], [StorageQuotaError, MyQuota, APIError]);
    expectInstances(new RateLimitError(apiInit(429)), [APIError], [StorageError, MyAPIError, InternalServerError]);
  });

  it("but anything whose prototype chain holds the class is, as without the override", () => {
    expectInstances(Object.create(StorageQuotaError.prototype), [StorageQuotaError, StorageError, EdgeChatError], [APIError]);
    expectInstances(Object.create(MyQuota.prototype), [MyQuota, StorageQuotaError], [MyDeepQuota]);
  });
});

describe("two copies of the package", () => {
  let other: typeof sdk;
  beforeAll(async () => {
    vi.resetModules(); // a second module instance, as when two bundles each include edgechat
    other = (await import("../../src/index.ts")) as typeof sdk;
  });

  it("a user's subclass of one copy's class is an instance of the other copy's classes of its kinds", () => {
    expect(other.StorageQuotaError).not.toBe(StorageQuotaError);
    class TheirQuota extends other.StorageQuotaError {}
    class TheirDeepQuota extends TheirQuota {}
    for (const error of [new TheirQuota(), new TheirDeepQuota()]) {
      expectInstances(error, [StorageQuotaError, StorageError, EdgeChatError, other.StorageQuotaError, other.StorageError, other.EdgeChatError, TheirQuota], [
        ConversationNotFoundError,
        other.ConversationNotFoundError,
        APIError,
        MyQuota,
      ]);
      expect(isEdgeChatError(error)).toBe(true);
    }
    expectInstances(new TheirQuota(), [], [TheirDeepQuota]);
    // The other way round: this copy's subclasses, seen by the other copy's classes.
    expectInstances(new MyDeepAPIError(1), [other.APIError, other.EdgeChatError], [other.RateLimitError, other.StorageError]);
    expectInstances(new MyDeepQuota(), [other.StorageQuotaError, other.StorageError], [other.ConversationNotFoundError]);
  });

  it("the other copy's own errors are instances of this copy's classes, and not of a user's subclass", () => {
    expectInstances(new other.RateLimitError(apiInit(429)), [RateLimitError, APIError, EdgeChatError], [InternalServerError, MyAPIError, StorageError]);
    expectInstances(new other.StorageQuotaError(), [StorageQuotaError, StorageError], [MyQuota, ConversationNotFoundError]);
  });
});

/** A store of the user's own: delegates to the memory store, and throws `fullError()` from appendMessage while full. */
class FullDiskStore implements ConversationStore {
  readonly #inner = createMemoryStore();
  full = false;
  /** Every error appendMessage threw. */
  readonly thrown: Error[] = [];
  constructor(readonly fullError: () => Error) {}
  list: ConversationStore["list"] = (o) => this.#inner.list(o);
  get: ConversationStore["get"] = (id) => this.#inner.get(id);
  create: ConversationStore["create"] = (c) => this.#inner.create(c);
  rename: ConversationStore["rename"] = (id, t) => this.#inner.rename(id, t);
  setCalibration: ConversationStore["setCalibration"] = (id, c) => this.#inner.setCalibration(id, c);
  delete: ConversationStore["delete"] = (id) => this.#inner.delete(id);
  loadMessages: ConversationStore["loadMessages"] = (id, o) => this.#inner.loadMessages(id, o);
  updateMessage: ConversationStore["updateMessage"] = (id, m) => this.#inner.updateMessage(id, m);
  removeMessages: ConversationStore["removeMessages"] = (id, ids) => this.#inner.removeMessages(id, ids);
  switchTo: ConversationStore["switchTo"] = (id, m) => this.#inner.switchTo(id, m);
  export: ConversationStore["export"] = (id) => this.#inner.export(id);
  import: ConversationStore["import"] = (d) => this.#inner.import(d);
  async appendMessage(id: string, message: Message): Promise<void> {
    if (this.full) {
      const error = this.fullError();
      this.thrown.push(error);
      throw error;
    }
    return this.#inner.appendMessage(id, message);
  }
}

describe("Conversation and a custom store that throws its own quota error", () => {
  let upstream: Upstream;
  beforeAll(async () => void (upstream = await startUpstream()));
  afterAll(() => upstream.close());

  /** What a send on a full disk does, each error described by how Conversation and a caller can tell it apart. */
  async function fullDiskSend(fullError: () => Error) {
    const store = new FullDiskStore(fullError);
    const describe = (e: unknown) => ({
      /** The store's own error, passed on as is (not wrapped in a generic StorageError). */
      thrownByStore: store.thrown.includes(e as Error),
      storageQuotaError: e instanceof StorageQuotaError,
      storageError: e instanceof StorageError,
      edgeChatError: isEdgeChatError(e),
      message: e instanceof Error ? e.message : String(e),
    });
    upstream.requests.length = 0;
    upstream.handle(streamReply(["ok"]));
    const conv = await Conversation.create(store, { client: createClient({ baseURL: upstream.baseURL, maxRetries: 0 }), model: MODEL });
    const events: unknown[] = [];
    conv.onChange((c: ConversationChange) => c.type === "storage-error" && events.push(c.error));
    store.full = true;
    const reply = conv.send("precious words");
    const rejected: unknown = await reply.done.then(
      () => expect.fail("the send should fail"),
      (e: unknown) => e,
    );
    const flushRejected: unknown = await conv.flush().then(
      () => "flushed",
      (e: unknown) => e,
    );
    const trace = {
      rejectedWith: describe(rejected),
      requestsSent: upstream.requests.length,
      replyState: reply.state,
      messages: conv.messages.map((m) => [m.role, m.content]),
      pendingWrites: conv.pendingWrites,
      storageErrorEvents: [...new Set(events.map((e) => JSON.stringify(describe(e))))].map((e) => JSON.parse(e) as unknown),
      flushRejectsWith: describe(flushRejected),
      afterSpaceFreed: "",
    };
    store.full = false;
    await conv.flush();
    await conv.send("more words").done;
    await conv.flush();
    trace.afterSpaceFreed = (await store.loadMessages(conv.id)).messages.map((m) => m.content).join(" | ");
    return { trace, rejected };
  }

  it("Conversation.send reports it as storage-full exactly as it does the built-in StorageQuotaError", async () => {
    const full = { thrownByStore: true, storageQuotaError: true, storageError: true, edgeChatError: true, message: expect.stringMatching(/^Storage is full/) };
    const builtIn = await fullDiskSend(() => new StorageQuotaError({ cause: new DOMException("quota", "QuotaExceededError") }));
    expect(builtIn.trace).toEqual({
      rejectedWith: full,
      requestsSent: 0,
      replyState: "error",
      messages: [["user", "precious words"]],
      pendingWrites: 1,
      storageErrorEvents: [full],
      flushRejectsWith: full,
      afterSpaceFreed: "precious words | more words | ok",
    });
    vi.resetModules();
    const other = (await import("../../src/index.ts")) as typeof sdk;
    class TheirQuota extends other.StorageQuotaError {}
    const custom: [Class, () => Error][] = [
      [MyQuota, () => new MyQuota()],
      [MyDeepQuota, () => new MyDeepQuota()],
      [TheirQuota, () => new TheirQuota()], // a subclass of another copy's StorageQuotaError
    ];
    for (const [Custom, make] of custom) {
      const { trace, rejected } = await fullDiskSend(make);
      expect(trace, Custom.name).toEqual(builtIn.trace);
      expect(rejected, Custom.name).toBeInstanceOf(Custom);
    }
  });

  it("a plain Error from the store is wrapped in a StorageError, not taken for a full disk", async () => {
    const { trace } = await fullDiskSend(() => new Error("disk on fire"));
    expect(trace).toMatchObject({
      rejectedWith: { thrownByStore: false, storageQuotaError: false, storageError: true, edgeChatError: true, message: "Could not save the conversation: disk on fire" },
      requestsSent: 0,
      replyState: "error",
      pendingWrites: 1,
    });
  });
});
