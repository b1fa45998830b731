import type { ChatStream } from "../client/chat-stream.js";
import type { Client } from "../client/client.js";
import type { ChatCompletion } from "../client/types.js";
import { EdgeChatError } from "../errors/base.js";
import { BadRequestError, ContextLengthError, NotFoundError, UnprocessableEntityError } from "../errors/api.js";
import { StreamInterruptedError, TimeoutError, UserAbortError } from "../errors/transport.js";
import { type ContentInput, normalizeContent, normalizeContentSync } from "../images/input.js";
import { type Calibration, UNCALIBRATED } from "../messages/calibration.js";
import { calibrate } from "./calibration.js";
import { learnFromContextError } from "./context-limit.js";
import { type FitResult, fitToContext } from "./fit.js";
import { newId } from "../messages/id.js";
import { loadNewest, PAGE_SIZE } from "./load.js";
import { type ConversationJSON, type SpentUsage, serializeMessage } from "../messages/serialize.js";
import { growing } from "./grow.js";
import { Persistence } from "./persist.js";
import { ConversationNotFoundError, StorageError } from "../store/errors.js";
import type { ConversationStore } from "../store/types.js";
import { estimateTokens } from "../tokens/estimate.js";
import type { ContextReport, ConversationChange, ConversationOptions, ConversationParams, SendOptions } from "./options.js";
import { type ModelPreset, presetFor } from "../models/presets.js";
import { type Reply, ReplyImpl } from "./reply.js";
import { mergeTail } from "./sync.js";
import { type SummaryMessage, toAPIMessages } from "./to-api.js";
import { type Forks, forksOf, newestUnder, parentKey, pathTo, ROOT, versionsOf, withVersion } from "../messages/tree.js";
import type { AssistantMessage, Message, MessageContent, ReplyStatus } from "../messages/types.js";
import { sumUsage, totalUsage } from "./usage.js";

export type { ContextReport, ConversationChange, ConversationOptions, ConversationParams, SendOptions, WhileBusy } from "./options.js";

type OpenOptions = Omit<ConversationOptions, "id" | "model" | "system"> & { model?: string };
type Saved = { id: string; model: string; system?: string; createdAt: number; calibration?: Calibration; usage?: SpentUsage; forks?: Forks };

/** One send, regenerate, edit or continue: queued, then run as one critical section under the conversation's lock. */
interface Turn {
  reply: ReplyImpl;
  controller: AbortController;
  options: SendOptions;
  /** The new content (send, edit), read before the lock is taken (a Blob may take a while). */
  content?: Promise<MessageContent>;
  /**
   * Under the lock, on the up-to-date history: make this turn's change to it. Returns the id of the reply to carry on
   * (continue, or re-attach to its generation), or undefined for a new reply, or the reply as another writer finished
   * it (nothing to do). Throws when the history no longer allows it.
   */
  apply(content: MessageContent | undefined): string | undefined | AssistantMessage;
}

/** Content as a message holds it: bad content throws here, at once; content with Blobs is read later. */
function readContent(content: ContentInput): Promise<MessageContent> {
  const sync = normalizeContentSync(content);
  return sync !== undefined ? Promise.resolve(sync) : normalizeContent(content);
}

/** Not the system message (leading system messages are never dropped). */
const isMessage = (m: Message | SummaryMessage): m is Message => m.role !== "system";

/** A message of `role` ("message": any). */
const isRole = <R extends Message["role"] | "message">(m: Message | undefined, role: R): m is Of<R> => role === "message" ? !!m : m?.role === role;
type Of<R> = R extends Message["role"] ? Extract<Message, { role: R }> : Message;

/** A document's first message: it follows nothing in the document. */
const withoutParent = ({ parentId: _, ...message }: Message): Message => message;

const isFinished = (reply: Reply) => reply.state === "complete" || reply.state === "interrupted" || reply.state === "error";

/** Messages read to bring the history up to date before a turn: the tail another writer may have changed. */
const PULL_PAGE = 8;

const DEFAULT_MAX_OUTPUT = 4096;

/** The instruction sent (not stored) to carry on an interrupted reply; works with any chat model and server. */
export const CONTINUE_PROMPT = "Continue exactly where your previous message stopped. Do not repeat anything; do not add a preamble.";

/**
 * A chat history that streams replies and always fits the model's context window. Messages are plain,
 * immutable objects: every change replaces the message object, so token counts are cached per object.
 */
export class Conversation {
  readonly id: string;
  readonly model: string;
  readonly system: string | undefined;
  #createdAt = Date.now();
  readonly #client: Client;
  readonly #options: ConversationOptions;
  readonly #preset: ModelPreset | undefined;
  /** The active path (its loaded part): what is shown and sent. */
  readonly #messages: Message[] = [];
  /** Without a store, every message of every branch, oldest first (a store keeps them otherwise). */
  #tree: Map<string, Message> | undefined = new Map();
  #forks: Forks | undefined;
  /** The message the next appended one is a new version of (set by edit and regenerate). */
  #versionOf: string | undefined;
  readonly #listeners = new Set<(change: ConversationChange) => void>();
  #contextWindow: number;
  #calibration: Calibration = UNCALIBRATED;
  /** The turn running now, and those queued behind it. */
  #running: Turn | undefined;
  readonly #queued: Turn[] = [];
  /** True from the moment a turn holds the lock until it releases it: the history is ours alone. */
  #inTurn = false;
  #spent: SpentUsage = { promptTokens: 0, completionTokens: 0, cost: 0 };
  #unsubscribe: (() => void) | undefined;
  /** A background read of the store in progress (another writer's change), and whether another is due. */
  #pulling: Promise<void> | undefined;
  #pullAgain = false;
  /**
   * The store's `updatedAt` for this conversation when this object last knew every message change (read before the
   * messages were): every change moves it on, so an equal value means there is nothing to read.
   */
  #seen: number | undefined;
  /** Waiting for another writer's turn to end, to settle a reply it left streaming. */
  #watching: AbortController | undefined;
  /** The latest re-attached reply, and every reply this object has tried to re-attach (once each). */
  #resuming: Reply | undefined;
  readonly #resumed = new Set<string>();
  /** A reply another tab streams from a relay, followed live here (read, never stored or cancelled from here). */
  #live: { id: string; stop: AbortController } | undefined;
  #summary: { key: string; message: SummaryMessage } | undefined;
  #system: SummaryMessage | undefined;
  #lastContext: ContextReport | undefined;
  #persist: Persistence | undefined;
  #store: ConversationStore | undefined;
  #olderCursor: number | undefined;

  constructor(options: ConversationOptions) {
    this.#client = options.client;
    this.#options = options;
    this.model = options.model;
    this.id = options.id ?? newId();
    this.system = options.system;
    // One object for the conversation's life: token counts are cached per message object.
    if (options.system !== undefined) this.#system = { role: "system", content: options.system };
    this.#preset = presetFor(options.model);
    const window = options.contextWindow ?? this.#preset?.contextWindow;
    if (!(typeof window === "number" && window > 0)) {
      throw new EdgeChatError(
        `No context window known for model "${options.model.slice(0, 100)}": pass contextWindow (tokens), e.g. new Conversation({ model, contextWindow: 8192, ... })`,
      );
    }
    this.#contextWindow = window;
  }

  /** When the conversation was made (ms since the epoch): kept by stores and documents. */
  get createdAt(): number {
    return this.#createdAt;
  }

  /** The active path, oldest first: the version of each message now chosen (`switchTo`). A live, read-only view. */
  get messages(): readonly Message[] {
    return this.#messages;
  }

  /**
   * The versions of a message of `messages`: itself and the edits or regenerations beside it (same parent), oldest
   * first, and which one it is. A message never edited or regenerated is its only version.
   */
  versions(messageId: string): { ids: readonly string[]; index: number } {
    return versionsOf(this.#forks, this.#find(messageId, "message")[1]);
  }

  /**
   * Make `messageId` (any version of a message, e.g. from `versions`) part of the active path: the path becomes the
   * one to the newest message under it. Stored, so other tabs and a reload show the same. Waits for another tab's
   * turn; rejects while a reply of this conversation is unfinished.
   */
  async switchTo(messageId: string): Promise<void> {
    if (this.busy) throw new EdgeChatError("A reply is still streaming: await reply.done, or call abort() first");
    const store = this.#store;
    if (!store) {
      const tree = this.#tree!;
      if (!tree.has(messageId)) throw new EdgeChatError(`No message with id "${messageId}"`);
      const path = pathTo(newestUnder(messageId, tree.values())!.id, tree);
      let at = 0;
      while (path[at] && path[at] === this.#messages[at]) at++;
      return this.#mergeTail(at, path.slice(at));
    }
    const change = async () => {
      await store.switchTo(this.id, messageId);
      this.#seen = undefined;
      await this.#pull();
    };
    await (store.lockConversation ? store.lockConversation(this.id, change) : change());
  }

  /**
   * A reply re-attached to its generation: one that a closed page, a crash or a lost connection left `streaming`
   * with a `resume` point, found by `open()` (or while following another tab whose page went away). It streams on
   * into the same message — no new request to the model, the same text — as a turn of its own, so it waits for the
   * lock while its writer (another tab) is still at work, and then finds the reply finished: nothing to do, its
   * `done` resolves with the message as that writer left it. If the generation is gone (expired: a 404) or cannot be
   * read, the message ends `interrupted`, its text kept, and `continue()` carries it on. Iterating it yields the text
   * from where it picked up. Kept after it ends (`state`); undefined until a reply is re-attached.
   */
  get resuming(): Reply | undefined {
    return this.#resuming;
  }

  /** True while a reply is unfinished: queued, waiting for another tab's turn, or streaming. */
  get busy(): boolean {
    return this.#queued.length > 0 || (this.#running !== undefined && !isFinished(this.#running.reply));
  }

  get calibration(): Calibration {
    return this.#calibration;
  }

  get contextWindow(): number {
    return this.#contextWindow;
  }

  /** Tokens, budget and left-out turns of the last request. */
  get lastContext(): ContextReport | undefined {
    return this.#lastContext;
  }

  /**
   * What this conversation has cost: every reply's tokens and cost, including replies replaced by `regenerate` or
   * `edit`, and those of messages not loaded. Kept in the store's metadata, so `open()` knows it without reading
   * the history; followed as other tabs add to it.
   */
  get usage(): SpentUsage {
    return { ...this.#spent };
  }

  /** Subscribe to appends, updates (streaming text, status) and removals. Returns the unsubscribe function. */
  onChange(listener: (change: ConversationChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Send a user message and stream the reply. Bad content (an unsupported image) throws here, before anything
   * changes. While another reply is unfinished the send is queued (see `whileBusy`); across tabs, clients and
   * processes it waits for the conversation's lock, then sends with the whole history (`reply.state`).
   */
  send(content: ContentInput, options: SendOptions = {}): Reply {
    return this.#schedule(options, readContent(content), (normalized) => {
      this.#append({ id: newId(), role: "user", content: normalized!, createdAt: Date.now() });
      return undefined;
    });
  }

  /**
   * Ask again: a new version of a reply (default the last one, all its steps when it used tools; the old stays, see
   * `versions`), or a reply to the last message when it is a user message left unanswered.
   */
  regenerate(replyId?: string, options: SendOptions = {}): Reply {
    const at = () => {
      if (replyId !== undefined) return this.#find(replyId, "assistant")[0];
      let at = this.#messages.length;
      if (!at) throw new EdgeChatError("Nothing to regenerate: the conversation has no message");
      while (this.#messages[at - 1]?.role === "assistant") at--;
      return at;
    };
    at();
    return this.#schedule(options, undefined, () => {
      this.#branch(at());
      return undefined;
    });
  }

  /**
   * Carry on an interrupted reply (stopped, dropped, or cut off at max_tokens): the model is asked to
   * continue, and its text is appended to the same message. A tool step stopped once its calls were written goes on
   * as its turn would have: the model is asked again with the calls' results (a call stopped while it ran keeps the
   * result that says so; none runs again).
   */
  continue(options: SendOptions = {}): Reply {
    this.#continuable();
    return this.#schedule(options, undefined, () => {
      const last = this.#continuable();
      const step = this.#options.tools?.continueFrom(last);
      if (!step) return last.id;
      this.#replace(this.#messages.length - 1, step);
      return step;
    });
  }

  /** True when `continue()` has a reply to carry on (an interrupted one with text, or a tool step with its calls). */
  get canContinue(): boolean {
    const last = this.#messages.at(-1);
    return last?.role === "assistant" && last.status === "interrupted" && (last.content !== "" || !!this.#options.tools?.continueFrom(last));
  }

  /**
   * Answer a tool call that waits for the user (`state: "approval"`: its tool has `needsApproval`): run it, or
   * refuse it (the model is told). Once no call of that reply waits, the turn goes on — the calls run and the model
   * is asked again — as this reply; while others still wait, it ends at once with the message. Stored: another tab,
   * or the page after a reload, can answer.
   */
  approve(callId: string, approved = true, options: SendOptions = {}): Reply {
    const tools = this.#options.tools;
    if (!tools) throw new EdgeChatError("This conversation has no tools (the tools option)");
    return this.#schedule(options, undefined, () => {
      const at = this.#messages.length - 1;
      const next = tools.decide(this.#find(this.#messages[at]?.id ?? "", "assistant")[1], callId, approved);
      this.#replace(at, next);
      return next;
    });
  }

  /**
   * Send a new version of any user message of `messages`, and stream its reply: the path goes on from the new
   * version; the old one and everything after it stay, a branch away (see `versions`).
   */
  edit(messageId: string, content: ContentInput, options: SendOptions = {}): Reply {
    this.#find(messageId, "user");
    return this.#schedule(options, readContent(content), (normalized) => {
      const [at, { id: _, parentId: __, ...old }] = this.#find(messageId, "user");
      this.#branch(at);
      this.#append({ ...old, id: newId(), content: normalized!, createdAt: Date.now() });
      return undefined;
    });
  }

  /** Pin or unpin a message: pinned turns are sent however old. */
  pin(messageId: string, pinned = true): void {
    const [index, { pinned: _, ...rest }] = this.#find(messageId, "message");
    this.#replace(index, pinned ? { ...rest, pinned: true } : rest);
  }

  /** Stop the reply in progress, if any (its message ends `interrupted` with the text so far), and those queued. */
  abort(): void {
    for (const turn of [this.#running, ...this.#queued]) turn?.controller.abort();
  }

  /** Stop following the store (other tabs' changes). A reply in progress goes on and is stored. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#watching?.abort();
    this.#live?.stop.abort();
  }

  /** What the next request would carry, without sending it (the system message counted in `tokens`, not listed). */
  fit(): FitResult<Message> {
    const fit = this.#fitNow(undefined, { ...this.#options.params, ...this.#options.tools?.params(1) });
    return { ...fit, messages: fit.messages.filter(isMessage), dropped: fit.dropped.filter(isMessage) };
  }

  /** Make a new conversation in `store`; every message is saved as it happens. */
  static async create(store: ConversationStore, options: ConversationOptions & { title?: string }): Promise<Conversation> {
    const meta = await store.create({
      model: options.model,
      ...(options.id !== undefined && { id: options.id }),
      ...(options.system !== undefined && { system: options.system }),
      ...(options.title !== undefined && { title: options.title }),
    });
    const conversation = Conversation.#restore(options, meta);
    conversation.#attach(store);
    return conversation;
  }

  /**
   * Open a stored conversation. Reads only the newest pages — enough to fill the context window — not
   * the whole history (`loadOlder()` reads more for display). A reply left `streaming` by a page that
   * closed or crashed mid-reply is marked `interrupted`, keeping its partial text; one that can be resumed (its
   * server relays the generation) is re-attached instead, and completes as if nothing happened (`resuming`).
   */
  static async open(store: ConversationStore, id: string, options: Omit<ConversationOptions, "id" | "model" | "system"> & { model?: string }): Promise<Conversation> {
    const meta = await store.get(id);
    if (!meta) throw new ConversationNotFoundError(id);
    const conversation = Conversation.#restore(options, meta);
    conversation.#seen = meta.updatedAt;
    const { messages, before } = await loadNewest(store, id, conversation.#contextWindow, options.countTokens ?? estimateTokens);
    conversation.#olderCursor = before;
    conversation.#messages.push(...messages);
    conversation.#attach(store);
    await conversation.#settleOthers();
    return conversation;
  }

  /** Whether the store holds messages older than those loaded. */
  get hasOlder(): boolean {
    return this.#olderCursor !== undefined;
  }

  /** Load the next page of older messages from the store, for display. Returns how many were loaded. */
  async loadOlder(limit = PAGE_SIZE): Promise<number> {
    if (!this.#store || this.#olderCursor === undefined) return 0;
    const page = await this.#store.loadMessages(this.id, { limit, before: this.#olderCursor });
    this.#olderCursor = page.before;
    this.#messages.unshift(...page.messages);
    if (page.messages.length > 0) this.#emit({ type: "prepend", messages: page.messages });
    return page.messages.length;
  }

  /** Writes not yet in the store (queued, or failed and waiting for `flush()`). */
  get pendingWrites(): number {
    return this.#persist?.pending ?? 0;
  }

  /** Write everything not yet stored; rejects with the StorageError if the store still fails. */
  async flush(): Promise<void> {
    await this.#persist?.flush();
  }

  /**
   * The conversation as a document: every branch without a store; with one, the loaded part of the active path (the
   * store's `export` has every branch).
   */
  toJSON(): ConversationJSON {
    // With a store, the first message loaded may follow one that is not: it is the document's first.
    const [first, ...rest] = this.#tree ? this.#tree.values() : this.#messages;
    const messages = first ? [this.#tree ? first : withoutParent(first), ...rest] : [];
    const json: ConversationJSON = {
      format: "edgechat.conversation",
      version: 2,
      id: this.id,
      model: this.model,
      createdAt: this.createdAt,
      calibration: { ...this.#calibration },
      usage: this.usage,
      messages: messages.map(serializeMessage),
    };
    if (this.system !== undefined) json.system = this.system;
    const leaf = this.#messages.at(-1)?.id;
    if (leaf !== undefined) json.activeLeaf = leaf;
    return json;
  }

  /**
   * Rebuild a conversation from `toJSON()` output (or its JSON text). Everything is validated before anything is
   * built: bad input rejects with a `ValidationError` naming the path. A reply left `streaming` (a page closed
   * mid-reply) comes back `interrupted`. Async because the validator is loaded when first needed (as a store's
   * `import` loads it), so an app that never reads a document does not carry it.
   */
  static async fromJSON(input: unknown, options: Omit<ConversationOptions, "model" | "id" | "system"> & { model?: string }): Promise<Conversation> {
    const { parseConversationJSON, parseJSONText } = await import("../messages/json.js");
    const data = parseConversationJSON(typeof input === "string" ? parseJSONText(input) : input);
    const forks = forksOf(data.messages);
    const conversation = Conversation.#restore(options, { ...data, usage: data.usage ?? totalUsage(data.messages), ...(forks && { forks }) });
    const tree = (conversation.#tree = new Map(data.messages.map((m) => [m.id, m])));
    conversation.#messages.push(...pathTo(newestUnder(data.activeLeaf ?? ROOT, tree.values())?.id, tree));
    return conversation;
  }

  // --- internals ---

  /** A conversation as saved (in a store or a document): its id, creation time, system message and calibration. */
  static #restore(options: OpenOptions, saved: Saved): Conversation {
    const base: ConversationOptions = { ...options, id: saved.id, model: options.model ?? saved.model };
    if (saved.system !== undefined) base.system = saved.system;
    const conversation = new Conversation(base);
    conversation.#createdAt = saved.createdAt;
    if (saved.calibration) conversation.#calibration = saved.calibration;
    if (saved.usage) conversation.#spent = { ...saved.usage };
    conversation.#forks = saved.forks;
    return conversation;
  }

  #continuable(): AssistantMessage {
    if (!this.canContinue) throw new EdgeChatError("Nothing to continue: the last message is not an interrupted reply with text or tool calls");
    return this.#messages.at(-1) as AssistantMessage;
  }

  /** Where `messageId` is on the active path (loaded), and the message; one not there, or not of `role`, is an error. */
  #find<R extends Message["role"] | "message">(messageId: string, role: R): [number, Of<R>] {
    const index = this.#messages.findIndex((m) => m.id === messageId);
    const message = this.#messages[index];
    if (!isRole(message, role)) throw new EdgeChatError(`No ${role === "message" ? "" : `${role} `}message with id "${messageId}" in messages`);
    return [index, message];
  }

  /** Queue a turn under the `whileBusy` policy, and start it if nothing runs. */
  #schedule(options: SendOptions, content: Promise<MessageContent> | undefined, apply: Turn["apply"], policy = this.#options.whileBusy ?? "queue"): Reply {
    if (this.busy) {
      if (policy === "reject") throw new EdgeChatError("A reply is still streaming: await reply.done, or call abort() first");
      if (policy === "replace") this.abort();
    }
    content?.catch(() => {});
    const controller = new AbortController();
    if (options.signal?.aborted) controller.abort();
    else options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
    const reply = new ReplyImpl(
      () => controller.abort(),
      (r) => this.#emit({ type: "reply", reply: r }),
    );
    const turn: Turn = { reply, controller, options, apply, ...(content && { content }) };
    // A queued turn aborted before it began leaves nothing behind.
    controller.signal.addEventListener("abort", () => {
      const at = this.#queued.indexOf(turn);
      if (at === -1) return;
      this.#queued.splice(at, 1);
      reply.fail(new UserAbortError(), "interrupted");
    });
    if (this.#running) this.#queued.push(turn);
    else this.#start(turn);
    return reply;
  }

  #start(turn: Turn): void {
    this.#running = turn;
    void this.#turn(turn).finally(() => {
      this.#running = undefined;
      const next = this.#queued.shift();
      if (next) this.#start(next);
      // A reply left streaming by a writer that is gone is settled now, atomically in the store (interruptStale):
      // rewriting it during the turn could overwrite a reply another tab finished, were the lock not shared.
      else void this.#settleOthers().catch(() => {});
    });
  }

  /**
   * One turn, start to end: read its content, take the conversation's lock (another tab's turn finishes first),
   * bring the history up to date, change it, send, stream, store the final reply — and only then release.
   */
  async #turn(turn: Turn): Promise<void> {
    const { reply, controller } = turn;
    try {
      const content = await turn.content;
      controller.signal.throwIfAborted();
      const store = this.#store;
      const critical = () => this.#critical(turn, content);
      let settle: () => void;
      if (store?.lockConversation) {
        this.#watching?.abort();
        settle = await store.lockConversation(this.id, critical, { signal: controller.signal, onWait: () => reply.setState("waiting") });
      } else settle = await critical();
      // Settled once the lock is released: when `done` resolves, the turn is over everywhere (a script may exit).
      settle();
    } catch (error) {
      // What fails before the reply's message exists: reading the content, the lock, a store read, an abort while
      // queued or waiting. The history is as it was.
      reply.fail(controller.signal.aborted && !(error instanceof EdgeChatError) ? new UserAbortError({ cause: error }) : error, controller.signal.aborted ? "interrupted" : "error");
    }
  }

  async #critical(turn: Turn, content: MessageContent | undefined): Promise<() => void> {
    this.#inTurn = true;
    // The history is ours now: a reply followed live is either finished or ours to carry on.
    this.#live?.stop.abort();
    try {
      turn.controller.signal.throwIfAborted();
      // Our own earlier writes first (a pin, a write that failed), then what other writers did meanwhile.
      await this.#persist?.flush();
      await this.#pulling;
      await this.#pull();
      const { reply, controller, options } = turn;
      const carryOn = turn.apply(content);
      const push = (delta: string) => reply.push(delta);
      const stream = (carryOn?: string, step?: number) => (reply.setState("streaming"), this.#stream(controller, options, carryOn, push, step));
      let end = typeof carryOn === "object" ? carryOn : await stream(carryOn);
      // With tools: run the calls the step made, and ask again, step after step. A reply found finished (re-attached,
      // approved) goes on only if it is still the last message.
      const tools = this.#options.tools;
      if (tools && typeof end === "object" && end === this.#messages.at(-1)) {
        end = await tools
          .loop(end, (m) => this.#replace(this.#messages.findIndex((x) => x.id === m.id), m), controller.signal, (step) => stream(undefined, step))
          .catch((error: unknown) => (r: ReplyImpl) => r.fail(error, controller.signal.aborted ? "interrupted" : "error"));
      }
      await this.#persist?.flush().catch(() => {});
      // Still holding the lock, everything in the store is ours: the next turn need not read it again.
      if (this.#store && this.pendingWrites === 0) this.#seen = (await this.#store.get(this.id).catch(() => undefined))?.updatedAt;
      const last = end;
      return typeof last === "function" ? () => last(reply) : () => reply.finish(last);
    } finally {
      this.#inTurn = false;
    }
  }

  /** Read the store's newest messages and merge them over the tail they overlap; and what has been spent. */
  async #pull(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    const meta = await store.get(this.id);
    if (!meta) return;
    this.#spent = { ...meta.usage };
    this.#forks = meta.forks;
    if (meta.updatedAt === this.#seen) return;
    this.#seen = meta.updatedAt;
    for (let limit = PULL_PAGE; ; limit *= 4) {
      const page = await store.loadMessages(this.id, { limit });
      const first = page.messages[0];
      let at = this.#messages.length - 1;
      while (at >= 0 && this.#messages[at]!.id !== first?.id) at--;
      if (at !== -1 || page.before === undefined) return this.#mergeTail(Math.max(at, 0), page.messages);
      // Another writer added more than we read: start again from the newest pages, as open() does.
      if (limit >= PULL_PAGE * 16) {
        const newest = await loadNewest(store, this.id, this.#contextWindow, this.#options.countTokens ?? estimateTokens);
        this.#olderCursor = newest.before;
        return this.#mergeTail(0, newest.messages);
      }
    }
  }

  #mergeTail(at: number, incoming: readonly Message[]): void {
    // A reply followed live is ahead of what its writer has stored so far (every 250 ms): keep it until it ends.
    const live = this.#live && (this.#messages.find((m) => m.id === this.#live!.id) as AssistantMessage | undefined);
    if (live) incoming = incoming.map((m) => (m.id === live.id && m.role === "assistant" && m.status === "streaming" && live.content.startsWith(m.content) ? live : m));
    const merge = mergeTail(this.#messages, at, incoming);
    this.#messages.splice(at, this.#messages.length - at, ...merge.tail);
    if (merge.removed.length > 0) this.#emit({ type: "remove", ids: merge.removed });
    for (const message of merge.updated) this.#emit({ type: "update", message });
    for (const message of merge.appended) this.#emit({ type: "append", message });
    this.#followLive();
  }

  /**
   * Another writer's reply streaming through a relay (it has a `resume` point): read its generation too and show it
   * as it comes, not only as its writer stores it. Read-only: nothing is stored from here and nothing is cancelled
   * (`follow`); the message keeps a `resume` point that matches its text, so that, should this page carry it on
   * (its writer gone), it picks up where the text it shows ends.
   */
  #followLive(): void {
    const m = this.#messages.at(-1);
    // Not one this page re-attaches to (it is its writer then).
    if (this.#live || this.#inTurn || !this.#unsubscribe || m?.role !== "assistant" || m.status !== "streaming" || !m.resume || this.#resumed.has(m.id)) return;
    const live = (this.#live = { id: m.id, stop: new AbortController() });
    const stream = this.#client.chat.completions.resume(m.resume.url, { ...this.#options.requestOptions, lastEventId: m.resume.lastEventId, signal: live.stop.signal, follow: true });
    let shown: AssistantMessage = m;
    let overtaken = false;
    const grow = growing(m.content, m.resume, this.#options.tools);
    (async () => {
      for await (const chunk of stream) {
        const at = this.#messages.indexOf(shown);
        // Its writer finished it, or this page's turn began; or what the writer stored got ahead of this stream: go
        // on from there instead.
        if (this.#inTurn || at === -1) return void (overtaken = !this.#inTurn);
        const next = grow.next(shown, chunk.choices[0]?.delta, stream.resumable);
        this.#messages[at] = shown = next;
        this.#emit({ type: "update", message: next });
      }
    })()
      .catch(() => {})
      .finally(() => {
        live.stop.abort();
        if (this.#live !== live) return;
        this.#live = undefined;
        if (overtaken) this.#followLive();
      });
  }

  /** Another writer changed the conversation: follow it (coalesced; never inside our own turn, which reads anyway). */
  #follow(): void {
    if (this.#pulling) {
      this.#pullAgain = true;
      return;
    }
    this.#pulling = (async () => {
      do {
        this.#pullAgain = false;
        if (this.#inTurn || (this.#persist?.pending ?? 0) > 0) return;
        try {
          await this.#pull();
        } catch (error) {
          this.#emit({ type: "storage-error", error: error instanceof StorageError ? error : new StorageError(String(error), { cause: error }) });
          return;
        }
      } while (this.#pullAgain);
    })().finally(() => {
      this.#pulling = undefined;
      this.#watchOthers();
    });
  }

  /**
   * Replies left `streaming` by another writer: stored as `interrupted` if nobody holds the lock (atomically, in
   * the store), else left to their writer. A store without `interruptStale` cannot tell: shown interrupted here,
   * the store left alone (the writer, if alive, still writes its reply).
   */
  async #settleOthers(lockWasFree = false): Promise<void> {
    const store = this.#store;
    if (!store) return;
    for (const m of this.#messages) {
      if (m.role !== "assistant" || m.status !== "streaming") continue;
      // A relayed reply: re-attach to its generation, as a turn — once its writer is known to be gone (the lock is
      // free), so that while that writer is at work this page's sends wait for it, not behind a re-attach of ours
      // (#watchOthers comes back when the lock frees).
      if (m.resume && store.lockConversation) {
        if (this.#resumed.has(m.id) || !(lockWasFree || (await this.#lockIsFree(store)))) continue;
        this.#resumed.add(m.id);
        this.#resuming = this.#schedule({}, undefined, () => {
          const now = this.#find(m.id, "assistant")[1];
          return now.status === "streaming" && now.resume ? now.id : now;
        }, "queue");
        continue;
      }
      const now = store.interruptStale ? await store.interruptStale(this.id, m.id) : { ...m, status: "interrupted" as const };
      const at = this.#messages.findIndex((x) => x.id === m.id);
      if (now && at !== -1 && now.role === "assistant" && now.status !== m.status) {
        this.#messages[at] = now;
        this.#emit({ type: "update", message: now });
      }
    }
    // A tool step whose calls were left to run by a writer that is gone: stopped, so that continue() goes on from it.
    if (this.#orphan() && store.lockConversation) {
      await this.#lockIsFree(store, async () => {
        // A read begun before the lock may be merging what the writer left before its last write: let it end first.
        await this.#pulling;
        await this.#pull();
        const stopped = this.#orphan();
        if (stopped) this.#replace(this.#messages.length - 1, stopped);
        await this.#persist?.flush();
      });
    }
    this.#watchOthers();
    this.#followLive();
  }

  /** The last message, if it is a tool step with calls left to run: what it becomes if its writer is gone. */
  #orphan(): AssistantMessage | undefined {
    const last = this.#messages.at(-1);
    return last?.role === "assistant" ? this.#options.tools?.orphaned(last) : undefined;
  }

  /** Whether nobody holds the conversation's lock: taken (running `fn`) and let go at once if free, not waited for if held. */
  #lockIsFree(store: ConversationStore, fn: () => unknown = () => {}): Promise<boolean> {
    const probe = new AbortController();
    return store.lockConversation!(this.id, fn, { signal: probe.signal, onWait: () => probe.abort() }).then(
      () => true,
      () => false,
    );
  }

  /** A reply another writer is streaming, or a tool step it runs: when its turn ends (or its tab dies), settle what it left. */
  #watchOthers(): void {
    const store = this.#store;
    if (this.#watching || this.#running || !this.#unsubscribe || !store?.lockConversation) return;
    if (!this.#messages.some((m) => m.role === "assistant" && m.status === "streaming") && !this.#orphan()) return;
    const watching = (this.#watching = new AbortController());
    store
      .lockConversation(this.id, () => {}, { signal: watching.signal })
      .then(async () => {
        this.#watching = undefined;
        if (watching.signal.aborted || this.#running) return;
        // What the writer left, first (unless writes of ours wait): a reply it finished needs nothing; one still
        // streaming was left by a page that went away.
        if (!this.#persist?.pending) await this.#pull();
        await this.#settleOthers(true);
      })
      .catch(() => {})
      .finally(() => {
        if (this.#watching === watching) this.#watching = undefined;
      });
  }

  #emit(change: ConversationChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        // A listener's mistake is not the conversation's: report it, and carry on as if it had not thrown.
        const report = this.#options.onListenerError ?? (globalThis as { reportError?: (e: unknown) => void }).reportError;
        if (report) report(error);
        else
          setTimeout(() => {
            throw error;
          });
      }
    }
  }

  #attach(store: ConversationStore): void {
    this.#store = store;
    this.#tree = undefined;
    this.#persist = new Persistence(store, this.id, (error) => this.#emit({ type: "storage-error", error }));
    this.#unsubscribe = store.onChange?.((change) => {
      if (change.id === this.id && change.kind !== "delete") this.#follow();
    });
  }

  /** Add `message` at the end of the active path: it follows the last message, as a new version if one is due. */
  #append<M extends Message>(message: M): M {
    const parent = this.#messages.at(-1)?.id;
    if (parent !== undefined) message = { ...message, parentId: parent };
    this.#forks = withVersion(this.#forks, parentKey(message), this.#versionOf, message.id);
    this.#versionOf = undefined;
    this.#messages.push(message);
    this.#tree?.set(message.id, message);
    this.#persist?.append(message);
    this.#emit({ type: "append", message });
    return message;
  }

  #replace(index: number, message: Message): void {
    this.#messages[index] = message;
    this.#tree?.set(message.id, message);
    if (message.role === "assistant" && message.status === "streaming") this.#persist?.updateStreaming(message);
    else this.#persist?.update(message);
    this.#emit({ type: "update", message });
  }

  /**
   * Leave the active path at `index`: the message there and those after it stay stored (a branch away), and the
   * next message appended is a new version of it.
   */
  #branch(index: number): void {
    this.#versionOf = this.#messages[index]?.id;
    this.#mergeTail(index, []);
  }

  #spend(usage: { prompt_tokens: number; completion_tokens: number; estimated_cost?: number }): void {
    const spent = this.#spent;
    this.#spent = {
      promptTokens: spent.promptTokens + usage.prompt_tokens,
      completionTokens: spent.completionTokens + usage.completion_tokens,
      cost: spent.cost + (usage.estimated_cost ?? 0),
    };
  }

  #setCalibration(calibration: Calibration): void {
    this.#calibration = calibration;
    this.#persist?.calibration(calibration);
  }

  #maxOutput(params: ConversationParams): number {
    return params.max_tokens ?? this.#options.maxOutputTokens ?? Math.min(DEFAULT_MAX_OUTPUT, Math.floor(this.#contextWindow / 4));
  }

  /** What to send, fitted: the system message first (it counts against the window like the rest), then the path. */
  #fitNow(summary: SummaryMessage | undefined, params: ConversationParams = {}, continuing = false, instructions?: string): FitResult<Message | SummaryMessage> {
    const o = this.#options;
    const preset = this.#preset;
    const messages: (Message | SummaryMessage)[] = [...(this.#system ? [this.#system] : []), ...(instructions ? [{ role: "system" as const, content: instructions }] : []), ...this.#messages];
    if (continuing) messages.push({ id: "continue", role: "user", content: CONTINUE_PROMPT, createdAt: Date.now() });
    return fitToContext<Message | SummaryMessage>(messages, {
      contextWindow: this.#contextWindow,
      maxOutputTokens: this.#maxOutput(params),
      ...(o.countTokens && { countTokens: o.countTokens }),
      imagePolicy: o.imagePolicy ?? preset?.imagePolicy ?? "all",
      maxImages: preset?.maxImages ?? 1,
      ...(preset && { image: preset.image, template: preset.template }),
      ...(o.safetyMargin !== undefined && { safetyMargin: o.safetyMargin }),
      // The tools' definitions go with the request too (the template writes them into the prompt).
      ...(params.tools && { reserve: Math.ceil((o.countTokens ?? estimateTokens)(JSON.stringify(params.tools)) * this.#calibration.text) }),
      scale: { text: this.#calibration.text, image: this.#calibration.image },
      ...(summary && { summary }),
    });
  }

  async #fit(params: ConversationParams, continuing: boolean, instructions: string | undefined): Promise<FitResult<Message | SummaryMessage>> {
    let fit = this.#fitNow(undefined, params, continuing, instructions);
    const summarize = this.#options.summarize;
    const dropped = fit.dropped.filter(isMessage);
    if (summarize && dropped.length > 0) {
      const key = dropped[dropped.length - 1]!.id;
      if (this.#summary?.key !== key) {
        const text = await summarize(dropped);
        this.#summary = { key, message: { role: "system", content: `Summary of the earlier conversation: ${text}` } };
      }
      fit = this.#fitNow(this.#summary.message, params, continuing, instructions);
    }
    return fit;
  }

  /**
   * Stream one reply (or one step of a turn that uses tools). With `carryOn`, the reply with that id is carried on:
   * an interrupted one by asking the model to continue (the request ends with CONTINUE_PROMPT, sent, never stored),
   * one left streaming with a `resume` point by reading the rest of its generation; the new text is appended to the
   * same message. Returns the final message, or how to fail the reply (which the turn does once the lock is released).
   */
  async #stream(controller: AbortController, options: SendOptions, carryOn: string | undefined, push: (delta: string) => void, step = 1): Promise<AssistantMessage | ((reply: ReplyImpl) => void)> {
    const tools = this.#options.tools;
    let params: ConversationParams = { ...this.#options.params, ...options.params, ...tools?.params(step) };
    let instructions = options.instructions;
    let [index, message] = carryOn === undefined ? [-1] : this.#find(carryOn, "assistant");
    // Carried on by a new request (not read on from its generation), a reply cut off mid-call drops that call: it
    // never ran and was never sent, and no request can finish it.
    if (message?.status !== "streaming" && message?.toolCalls?.some((c) => c.state === "input")) {
      const { toolCalls, ...rest } = message;
      const kept = toolCalls.filter((c) => c.state !== "input");
      message = kept.length > 0 ? { ...rest, toolCalls: kept } : rest;
    }
    const previous = message;
    const before = previous?.content ?? "";
    const previousUsage = message?.usage;
    const resume = previous?.status === "streaming" ? previous.resume : undefined;
    let received = "";
    let retried: "context" | "fallback" | undefined;
    let stream: ChatStream | undefined;
    const update = (next: AssistantMessage) => {
      // Where to resume belongs to a streaming reply only.
      if (next.status !== "streaming") delete next.resume;
      message = next;
      if (index === -1) {
        index = this.#messages.length;
        message = this.#append(next);
      } else this.#replace(index, next);
    };
    const fresh = (status: ReplyStatus): AssistantMessage => ({ id: newId(), role: "assistant", content: "", status, createdAt: Date.now() });
    const requestOptions = { ...this.#options.requestOptions, signal: controller.signal };
    const contextRetry = () => retried === "context" && { contextRetry: true };
    try {
      // The user's message is in the store before the request goes out; if it cannot be saved, nothing is sent.
      await this.#persist?.flush();
      for (;;) {
        let fit: FitResult<Message | SummaryMessage> | undefined;
        if (resume) stream = this.#client.chat.completions.resume(resume.url, { ...requestOptions, lastEventId: resume.lastEventId });
        else {
          fit = await this.#fit(params, carryOn !== undefined, instructions);
          const maxOutput = this.#maxOutput(params);
          this.#lastContext = {
            tokens: fit.tokens,
            budget: fit.budget,
            contextWindow: this.#contextWindow,
            droppedTurns: fit.droppedTurns,
            droppedMessages: fit.dropped.length,
            summarized: fit.summarized,
          };
          stream = this.#client.chat.completions.create(
            {
              ...params,
              model: this.model,
              messages: toAPIMessages(fit.messages),
              max_tokens: maxOutput,
              stream: true,
              stream_options: { include_usage: true, ...params.stream_options },
            },
            requestOptions,
          );
        }
        let completion: ChatCompletion;
        try {
          const grow = growing(before, resume, tools);
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta;
            if (message === undefined || message === previous || delta?.content || delta?.tool_calls) {
              const base = message ?? fresh("streaming");
              // Its resume point taken with the text it goes with, so a stored reply can always be resumed where its
              // text ends.
              const next = grow.next({ ...base, ...contextRetry() }, delta, stream.resumable);
              received = grow.received;
              update(next);
              // What the reader sees is what the message shows: text a tool call holds back is not pushed.
              const shown = next.content.slice(base.content.length);
              if (shown) push(shown);
            }
          }
          completion = await stream.finalChatCompletion();
        } catch (error) {
          // Once, and only before any text: trim to what the server says fits, or send the fallback; then send again.
          if (fit && !retried && received === "") {
            if (error instanceof ContextLengthError) {
              const learned = learnFromContextError(error, { calibration: this.#calibration, window: this.#contextWindow }, fit.estimate, this.#maxOutput(params));
              this.#contextWindow = learned.window;
              if (learned.calibration !== this.#calibration) this.#setCalibration(learned.calibration);
              retried = "context";
              continue;
            }
            const fallback = options.fallback;
            if (fallback && (error instanceof BadRequestError || error instanceof UnprocessableEntityError)) {
              params = { ...params, ...fallback.params };
              instructions = fallback.instructions ?? instructions;
              retried = "fallback";
              continue;
            }
          }
          throw error;
        }
        const choice = completion.choices[0];
        const usage = sumUsage(previousUsage, completion.usage ?? undefined);
        const finishReason = choice?.finish_reason ?? undefined;
        const text = choice?.message.content ?? received;
        // What a failed attempt left on a reply carried on (an error) does not outlive this ending.
        const { error: _, ...base } = message ?? fresh("streaming");
        let final: AssistantMessage = {
          ...base,
          content: before + text,
          // Cut off at max_tokens, or cancelled by the relay (a Stop elsewhere, a cap): partial, and continuable,
          // like an interrupted reply.
          status: finishReason === "length" || finishReason === "cancelled" ? "interrupted" : "complete",
          ...(usage && { usage }),
          ...(finishReason && { finishReason }),
          ...contextRetry(),
        };
        if (tools) final = tools.fold(final, undefined, text, true);
        // Spent first: whoever sees the reply end sees what it cost in `usage`.
        if (completion.usage) {
          // A re-attached reply's request was fitted by another page: nothing to calibrate against here.
          if (fit) this.#setCalibration(calibrate(this.#calibration, fit.estimate, completion.usage.prompt_tokens));
          this.#spend(completion.usage);
        }
        update(final);
        // The final state is stored before the lock is released (a failed write is reported, and flush() retries).
        await this.#persist?.flush().catch(() => {});
        return final;
      }
    } catch (error) {
      // A store failure before sending: nothing was sent, so there is no reply to record.
      if (!(error instanceof StorageError)) {
        // Stopped, dropped, silent; or its generation lost (gone from the relay: a 404): partial, and continuable.
        const status: ReplyStatus =
          resume ||
          error instanceof UserAbortError ||
          error instanceof StreamInterruptedError ||
          error instanceof TimeoutError ||
          (stream?.resumable && error instanceof NotFoundError)
            ? "interrupted"
            : "error";
        // A later step stopped before its first word: the turn stops at the step before it, which continue() goes on from.
        if (message === undefined && step > 1 && status === "interrupted") message = this.#messages[(index = this.#messages.length - 1)] as AssistantMessage;
        const base = message ?? fresh(status);
        const err = error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };
        update({ ...base, status, error: err, ...contextRetry() });
        await this.#persist?.flush().catch(() => {});
        return (reply) => reply.fail(error, status);
      }
      return (reply) => reply.fail(error);
    }
  }
}
