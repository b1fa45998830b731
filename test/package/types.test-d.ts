// Type tests for the main call shapes (vitest's `.test-d.ts` convention): checked by `tsc -p test/tsconfig.json`,
// part of `npm test`, and never run — `client` is only declared. A change that loosens a type (to `any`, a wider
// union) or drops a member fails here, besides showing in etc/api.md.
import { describe, expectTypeOf, it } from "vitest";
import * as root from "../../src/index.ts";
import {
  type AssistantMessage,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionCreateParams,
  type ChatStream,
  type Client,
  Conversation,
  type ConversationMeta,
  type ConversationOptions,
  type ConversationStore,
  createClient,
  createMemoryStore,
  type LockOptions,
  type Message,
  type MessagePage,
  type Reply,
  type ReplyState,
  type ResumePoint,
  toSSEStream,
  APIError,
} from "../../src/index.ts";
import { createRelay, type Relay, type RelayNamespaceLike, type RelayOptions, type StartOptions } from "../../src/relay/index.ts";
import { createIndexedDBStore, type IndexedDBStore } from "../../src/store/idb/index.ts";
import { createDurableObjectStore, type LockingStore } from "../../src/store/durable-object/index.ts";
import { createDenoKvStore } from "../../src/store/deno-kv/index.ts";

declare const client: Client;
declare const messages: ChatCompletionCreateParams["messages"];
const model = "meta-llama/Llama-3.2-90B-Vision-Instruct";

describe("client.chat.completions", () => {
  it("create: without stream a promise of the completion, with stream: true a ChatStream at once", () => {
    expectTypeOf(client.chat.completions.create({ model, messages })).toEqualTypeOf<Promise<ChatCompletion>>();
    expectTypeOf(client.chat.completions.create({ model, messages, stream: false })).toEqualTypeOf<Promise<ChatCompletion>>();
    expectTypeOf(client.chat.completions.create({ model, messages, stream: true })).toEqualTypeOf<ChatStream>();
    // A stream flag known only at run time: either.
    const stream: boolean = Math.random() > 0.5;
    expectTypeOf(client.chat.completions.create({ model, messages, stream })).toEqualTypeOf<ChatStream | Promise<ChatCompletion>>();
    // @ts-expect-error -- model is required
    void client.chat.completions.create({ messages });
    expectTypeOf(createClient).parameter(0).toEqualTypeOf<root.ClientOptions | undefined>();
  });

  it("resume(url, { lastEventId }) is a ChatStream", () => {
    expectTypeOf(client.chat.completions.resume("https://x/g/1")).toEqualTypeOf<ChatStream>();
    expectTypeOf(client.chat.completions.resume("https://x/g/1", { lastEventId: "3", maxRetries: 1 })).toEqualTypeOf<ChatStream>();
  });

  it("a ChatStream: chunks, text, the final completion, where to resume; re-encoded with toSSEStream", () => {
    const s = client.chat.completions.create({ model, messages, stream: true });
    expectTypeOf(s).toMatchTypeOf<AsyncIterable<ChatCompletionChunk>>();
    expectTypeOf(s.textStream).toEqualTypeOf<AsyncIterable<string>>();
    expectTypeOf(s.finalChatCompletion()).toEqualTypeOf<Promise<ChatCompletion>>();
    expectTypeOf(s.currentText).toEqualTypeOf<string>();
    expectTypeOf(s.resumable).toEqualTypeOf<ResumePoint | undefined>();
    expectTypeOf(s.response).toEqualTypeOf<Promise<Response>>();
    expectTypeOf(s.abort).toEqualTypeOf<(reason?: unknown) => void>();
    expectTypeOf(toSSEStream(s, { keepAliveMs: 0 })).toEqualTypeOf<ReadableStream<Uint8Array>>();
    // openai-node's names that would behave differently here are absent.
    expectTypeOf(s).not.toHaveProperty("toReadableStream");
    expectTypeOf(s).not.toHaveProperty("finalCompletion");
  });

  it("ChatStream and Reply are types, not constructors a user can call", () => {
    // @ts-expect-error -- exported with `export type`
    void root.ChatStream;
    // @ts-expect-error -- exported with `export type`
    void root.Reply;
  });

  it("errors carry openai-node's requestID", () => {
    expectTypeOf<APIError["requestID"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<APIError>().not.toHaveProperty("requestId");
  });
});

describe("Conversation", () => {
  const chat = new Conversation({ client, model });

  it("options: client and model required, the rest optional", () => {
    expectTypeOf<ConversationOptions["client"]>().toEqualTypeOf<Client>();
    expectTypeOf<ConversationOptions["model"]>().toEqualTypeOf<string>();
    expectTypeOf<ConversationOptions>().toHaveProperty("whileBusy").toEqualTypeOf<"queue" | "reject" | "replace" | undefined>();
    expectTypeOf<ConversationOptions>().toHaveProperty("countTokens").toEqualTypeOf<((text: string) => number) | undefined>();
    // @ts-expect-error -- model is required
    void new Conversation({ client });
  });

  it("send, regenerate(replyId?), edit and continue return a Reply", () => {
    expectTypeOf(chat.send("hi")).toEqualTypeOf<Reply>();
    expectTypeOf(chat.send([{ type: "text", text: "look" }], { signal: new AbortController().signal })).toEqualTypeOf<Reply>();
    expectTypeOf(chat.regenerate()).toEqualTypeOf<Reply>();
    expectTypeOf(chat.regenerate("reply-id")).toEqualTypeOf<Reply>();
    expectTypeOf(chat.edit("message-id", "new text")).toEqualTypeOf<Reply>();
    expectTypeOf(chat.continue()).toEqualTypeOf<Reply>();
    // @ts-expect-error -- edit needs the new content
    void chat.edit("message-id");
  });

  it("a Reply: text deltas, done, state, abort — and nothing the conversation drives it with", () => {
    const reply = chat.send("hi");
    expectTypeOf(reply).toMatchTypeOf<AsyncIterable<string>>();
    expectTypeOf(reply.done).toEqualTypeOf<Promise<AssistantMessage>>();
    expectTypeOf(reply.state).toEqualTypeOf<ReplyState>();
    expectTypeOf(reply.abort).toEqualTypeOf<() => void>();
    expectTypeOf(reply).not.toHaveProperty("push");
    expectTypeOf(reply).not.toHaveProperty("finish");
    expectTypeOf(reply).not.toHaveProperty("fail");
    expectTypeOf(reply).not.toHaveProperty("setState");
  });

  it("versions and switchTo, messages, and the static constructors", () => {
    expectTypeOf(chat.versions("id")).toEqualTypeOf<{ ids: readonly string[]; index: number }>();
    expectTypeOf(chat.switchTo("id")).toEqualTypeOf<Promise<void>>();
    expectTypeOf(chat.messages).toEqualTypeOf<readonly Message[]>();
    expectTypeOf(chat.createdAt).toEqualTypeOf<number>();
    expectTypeOf(chat.resuming).toEqualTypeOf<Reply | undefined>();
    const store = createMemoryStore();
    expectTypeOf(Conversation.create(store, { client, model, title: "t" })).toEqualTypeOf<Promise<Conversation>>();
    expectTypeOf(Conversation.open(store, "id", { client })).toEqualTypeOf<Promise<Conversation>>();
    expectTypeOf(Conversation.fromJSON(chat.toJSON(), { client })).toEqualTypeOf<Promise<Conversation>>();
  });
});

describe("stores", () => {
  it("ConversationStore: switchTo is required, the lock and the conditional interrupt optional", () => {
    expectTypeOf<ConversationStore["switchTo"]>().toEqualTypeOf<(id: string, messageId: string) => Promise<string>>();
    expectTypeOf<ConversationStore["loadMessages"]>().returns.toEqualTypeOf<Promise<MessagePage>>();
    expectTypeOf<ConversationStore["get"]>().returns.toEqualTypeOf<Promise<ConversationMeta | undefined>>();
    expectTypeOf<ConversationStore["lockConversation"]>().toEqualTypeOf<
      (<T>(id: string, fn: () => T | PromiseLike<T>, options?: LockOptions) => Promise<T>) | undefined
    >();
    const { switchTo: _, ...withoutSwitch } = createMemoryStore();
    // @ts-expect-error -- a store without switchTo is not a ConversationStore
    const notAStore: ConversationStore = withoutSwitch;
    void notAStore;
  });

  it("each store is a ConversationStore; the Durable Object's always has its lock", () => {
    expectTypeOf(createMemoryStore()).toEqualTypeOf<ConversationStore>();
    expectTypeOf(createIndexedDBStore).returns.toEqualTypeOf<IndexedDBStore>();
    expectTypeOf<IndexedDBStore>().toMatchTypeOf<ConversationStore>();
    expectTypeOf(createDurableObjectStore).returns.toEqualTypeOf<LockingStore>();
    expectTypeOf<undefined>().not.toMatchTypeOf<LockingStore["lockConversation"]>();
    expectTypeOf<undefined>().toMatchTypeOf<ConversationStore["lockConversation"]>();
    expectTypeOf(createDenoKvStore).returns.toEqualTypeOf<ConversationStore>();
  });
});

describe("edgechat/relay", () => {
  it("createRelay(namespace, { path }) routes and starts generations", () => {
    expectTypeOf(createRelay).parameters.toEqualTypeOf<[RelayNamespaceLike, RelayOptions]>();
    expectTypeOf(createRelay).returns.toEqualTypeOf<Relay>();
    expectTypeOf<Relay["start"]>().toEqualTypeOf<(options: StartOptions) => Promise<Response>>();
    expectTypeOf<Relay["route"]>().toEqualTypeOf<(request: Request, options: { owner: string }) => Promise<Response | undefined>>();
    expectTypeOf<RelayOptions["path"]>().toEqualTypeOf<string>();
  });
});
