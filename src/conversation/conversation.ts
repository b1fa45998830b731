import type { Client } from "../client/client.js";
import type { ChatCompletion } from "../client/types.js";
import { EdgeChatError } from "../errors/base.js";
import { ContextLengthError } from "../errors/api.js";
import { StreamInterruptedError, TimeoutError, UserAbortError } from "../errors/transport.js";
import { type ContentInput, normalizeContent, normalizeContentSync } from "../images/input.js";
import { type Calibration, calibrate, UNCALIBRATED } from "./calibration.js";
import { learnFromContextError } from "./context-limit.js";
import { type FitResult, fitToContext } from "./fit.js";
import { newId } from "./id.js";
import { loadNewest, PAGE_SIZE } from "./load.js";
import { parseConversationJSON, parseJSONText } from "./json.js";
import { type ConversationJSON, serializeMessage } from "./serialize.js";
import { Persistence } from "./persist.js";
import { ConversationNotFoundError, StorageError } from "../store/errors.js";
import type { ConversationStore } from "../store/types.js";
import { estimateTokens } from "../tokens/estimate.js";
import type { ContextReport, ConversationChange, ConversationOptions, ConversationParams, SendOptions } from "./options.js";
import { type ModelPreset, presetFor } from "./presets.js";
import { Reply } from "./reply.js";
import { type SummaryMessage, toAPIMessages } from "./to-api.js";
import type { AssistantMessage, Message, MessageContent, ReplyStatus } from "./types.js";
import { sumUsage, totalUsage } from "./usage.js";

export type { ContextReport, ConversationChange, ConversationOptions, ConversationParams, SendOptions } from "./options.js";

type OpenOptions = Omit<ConversationOptions, "id" | "model" | "system"> & { model?: string };
type Saved = { id: string; model: string; system?: string; createdAt: number; calibration?: Calibration };

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
  readonly createdAt: number;
  readonly #client: Client;
  readonly #options: ConversationOptions;
  readonly #preset: ModelPreset | undefined;
  readonly #messages: Message[] = [];
  readonly #listeners = new Set<(change: ConversationChange) => void>();
  #contextWindow: number;
  #calibration: Calibration = UNCALIBRATED;
  #current: AbortController | undefined;
  #summary: { key: string; message: SummaryMessage } | undefined;
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
    this.createdAt = Date.now();
    this.#preset = presetFor(options.model);
    const window = options.contextWindow ?? this.#preset?.contextWindow;
    if (!(typeof window === "number" && window > 0)) {
      throw new EdgeChatError(
        `No context window known for model "${options.model.slice(0, 100)}": pass contextWindow (tokens), e.g. new Conversation({ model, contextWindow: 8192, ... })`,
      );
    }
    this.#contextWindow = window;
  }

  /** The history, oldest first. A live, read-only view. */
  get messages(): readonly Message[] {
    return this.#messages;
  }

  /** True while a reply is streaming. */
  get busy(): boolean {
    return this.#current !== undefined;
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

  /** Tokens and cost of every reply so far. */
  get usage(): { promptTokens: number; completionTokens: number; cost: number } {
    return totalUsage(this.#messages);
  }

  /** Subscribe to appends, updates (streaming text, status) and removals. Returns the unsubscribe function. */
  onChange(listener: (change: ConversationChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Send a user message and stream the reply. Bad content (an unsupported image) throws here, before anything changes. */
  send(content: ContentInput, options: SendOptions = {}): Reply {
    this.#assertIdle();
    return this.#withContent(content, options, (normalized) => this.#append({ id: newId(), role: "user", content: normalized, createdAt: Date.now() }));
  }

  /** Ask again for the reply to the last user message, replacing the reply that followed it. */
  regenerate(options: SendOptions = {}): Reply {
    this.#assertIdle();
    let last = this.#messages.length - 1;
    while (last >= 0 && this.#messages[last]!.role !== "user") last--;
    if (last === -1) throw new EdgeChatError("Nothing to regenerate: the conversation has no user message");
    this.#truncate(last + 1);
    const { reply, controller } = this.#begin(options);
    void this.#run(reply, controller, options);
    return reply;
  }

  /**
   * Carry on an interrupted reply (stopped, dropped, or cut off at max_tokens): the model is asked to
   * continue, and its text is appended to the same message.
   */
  continue(options: SendOptions = {}): Reply {
    this.#assertIdle();
    const index = this.#messages.length - 1;
    const last = this.#messages[index];
    if (last?.role !== "assistant" || last.status !== "interrupted" || last.content === "") {
      throw new EdgeChatError("Nothing to continue: the last message is not an interrupted reply with text");
    }
    const { reply, controller } = this.#begin(options);
    void this.#run(reply, controller, options, index);
    return reply;
  }

  /** Replace a user message's content, drop everything after it, and send again. */
  edit(messageId: string, content: ContentInput, options: SendOptions = {}): Reply {
    this.#assertIdle();
    const index = this.#messages.findIndex((m) => m.id === messageId);
    const original = this.#messages[index];
    if (!original || original.role !== "user") throw new EdgeChatError(`No user message with id "${messageId}" to edit`);
    return this.#withContent(content, options, (normalized) => {
      this.#truncate(index + 1);
      this.#replace(index, { ...original, content: normalized });
    });
  }

  /** Pin or unpin a message: pinned turns are sent however old. */
  pin(messageId: string, pinned = true): void {
    const index = this.#messages.findIndex((m) => m.id === messageId);
    const message = this.#messages[index];
    if (!message) throw new EdgeChatError(`No message with id "${messageId}"`);
    const { pinned: _, ...rest } = message;
    this.#replace(index, pinned ? { ...rest, pinned: true } : rest);
  }

  /** Stop the reply in progress, if any; its message ends `interrupted` with the text so far. */
  abort(): void {
    this.#current?.abort();
  }

  /** What the next request would carry, without sending it. */
  fit(): FitResult<Message> {
    return this.#fitNow(undefined);
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
   * closed or crashed mid-reply is marked `interrupted`, keeping its partial text.
   */
  static async open(store: ConversationStore, id: string, options: Omit<ConversationOptions, "id" | "model" | "system"> & { model?: string }): Promise<Conversation> {
    const meta = await store.get(id);
    if (!meta) throw new ConversationNotFoundError(id);
    const conversation = Conversation.#restore(options, meta);
    const { messages, before } = await loadNewest(store, id, conversation.#contextWindow, options.countTokens ?? estimateTokens);
    conversation.#olderCursor = before;
    conversation.#messages.push(...messages);
    conversation.#attach(store);
    // A reply still "streaming" is left from a page that closed or crashed — unless another tab holds the
    // conversation's lock and is streaming it right now, which must not be overwritten.
    if (!(await store.isConversationLocked?.(id))) {
      conversation.#messages.forEach((m, i) => {
        if (m.role === "assistant" && m.status === "streaming") conversation.#replace(i, { ...m, status: "interrupted" });
      });
    }
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

  toJSON(): ConversationJSON {
    const json: ConversationJSON = {
      format: "edgechat.conversation",
      version: 1,
      id: this.id,
      model: this.model,
      createdAt: this.createdAt,
      calibration: { ...this.#calibration },
      messages: this.#messages.map(serializeMessage),
    };
    if (this.system !== undefined) json.system = this.system;
    return json;
  }

  /**
   * Rebuild a conversation from `toJSON()` output (or its JSON text). Everything is validated before
   * anything is built: bad input throws a `ValidationError` naming the path. A reply left `streaming`
   * (a page closed mid-reply) comes back `interrupted`.
   */
  static fromJSON(input: unknown, options: Omit<ConversationOptions, "model" | "id" | "system"> & { model?: string }): Conversation {
    const data = parseConversationJSON(typeof input === "string" ? parseJSONText(input) : input);
    const conversation = Conversation.#restore(options, data);
    conversation.#messages.push(...data.messages);
    return conversation;
  }

  // --- internals ---

  /** A conversation as saved (in a store or a document): its id, creation time, system message and calibration. */
  static #restore(options: OpenOptions, saved: Saved): Conversation {
    const base: ConversationOptions = { ...options, id: saved.id, model: options.model ?? saved.model };
    if (saved.system !== undefined) base.system = saved.system;
    const conversation = new Conversation(base);
    (conversation as { createdAt: number }).createdAt = saved.createdAt;
    if (saved.calibration) conversation.#calibration = saved.calibration;
    return conversation;
  }

  #assertIdle(): void {
    if (this.#current) throw new EdgeChatError("A reply is still streaming: await reply.done, or call abort() first");
  }

  /**
   * Normalise `content` (bad content throws here, before anything changes), then `apply` it and stream the reply.
   * Content with Blobs is read first; a failed read fails the reply.
   */
  #withContent(content: ContentInput, options: SendOptions, apply: (content: MessageContent) => void): Reply {
    const sync = normalizeContentSync(content);
    const { reply, controller } = this.#begin(options);
    const start = (normalized: MessageContent) => {
      apply(normalized);
      void this.#run(reply, controller, options);
    };
    if (sync !== undefined) start(sync);
    else normalizeContent(content).then(start, (error) => this.#fail(reply, error));
    return reply;
  }

  #begin(options: SendOptions): { reply: Reply; controller: AbortController } {
    const controller = new AbortController();
    if (options.signal?.aborted) controller.abort();
    else options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
    this.#current = controller;
    return { reply: new Reply(() => controller.abort()), controller };
  }

  #fail(reply: Reply, error: unknown): void {
    this.#current = undefined;
    reply.fail(error);
  }

  #emit(change: ConversationChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  #attach(store: ConversationStore): void {
    this.#store = store;
    this.#persist = new Persistence(store, this.id, (error) => this.#emit({ type: "storage-error", error }));
  }

  #append(message: Message): void {
    this.#messages.push(message);
    this.#persist?.append(message);
    this.#emit({ type: "append", message });
  }

  #replace(index: number, message: Message): void {
    this.#messages[index] = message;
    if (message.role === "assistant" && message.status === "streaming") this.#persist?.updateStreaming(message);
    else this.#persist?.update(message);
    this.#emit({ type: "update", message });
  }

  #truncate(length: number): void {
    if (this.#messages.length <= length) return;
    const removed = this.#messages.splice(length);
    const ids = removed.map((m) => m.id);
    this.#persist?.remove(ids);
    this.#emit({ type: "remove", ids });
  }

  #setCalibration(calibration: Calibration): void {
    this.#calibration = calibration;
    this.#persist?.calibration(calibration);
  }

  #maxOutput(params: ConversationParams): number {
    return params.max_tokens ?? this.#options.maxOutputTokens ?? Math.min(DEFAULT_MAX_OUTPUT, Math.floor(this.#contextWindow / 4));
  }

  #fitNow(summary: SummaryMessage | undefined, params: ConversationParams = {}, continuing = false): FitResult<Message> {
    const o = this.#options;
    const preset = this.#preset;
    const messages: readonly Message[] = continuing
      ? [...this.#messages, { id: "continue", role: "user", content: CONTINUE_PROMPT, createdAt: Date.now() }]
      : this.#messages;
    return fitToContext<Message>(messages, {
      contextWindow: this.#contextWindow,
      maxOutputTokens: this.#maxOutput(params),
      ...(o.countTokens && { countTokens: o.countTokens }),
      imagePolicy: o.imagePolicy ?? preset?.imagePolicy ?? "all",
      maxImages: preset?.maxImages ?? 1,
      ...(preset && { image: preset.image, template: preset.template }),
      ...(o.safetyMargin !== undefined && { safetyMargin: o.safetyMargin }),
      scale: { text: this.#calibration.text, image: this.#calibration.image },
      // The summary is sent as a system message; fitToContext only needs its role and content.
      ...(summary && { summary: summary as unknown as Message }),
    });
  }

  async #fit(params: ConversationParams, continuing = false): Promise<FitResult<Message>> {
    let fit = this.#fitNow(undefined, params, continuing);
    const summarize = this.#options.summarize;
    if (summarize && fit.dropped.length > 0) {
      const key = fit.dropped[fit.dropped.length - 1]!.id;
      if (this.#summary?.key !== key) {
        const text = await summarize(fit.dropped);
        this.#summary = { key, message: { role: "system", content: `Summary of the earlier conversation: ${text}` } };
      }
      fit = this.#fitNow(this.#summary.message, params, continuing);
    }
    return fit;
  }

  /**
   * Stream one reply. With `continueAt`, the reply at that index (interrupted) is carried on: the request
   * ends with CONTINUE_PROMPT (sent, never stored) and the new text is appended to the same message.
   */
  async #run(reply: Reply, controller: AbortController, options: SendOptions, continueAt?: number): Promise<void> {
    // Stream under the store's cross-tab lock when it has one: one tab streams into a conversation at a time.
    const store = this.#store;
    try {
      if (store?.lockConversation) await store.lockConversation(this.id, () => this.#stream(reply, controller, options, continueAt));
      else await this.#stream(reply, controller, options, continueAt);
    } catch (error) {
      // Only the lock itself can fail here (#stream settles the reply on every path).
      this.#fail(reply, error);
    }
  }

  async #stream(reply: Reply, controller: AbortController, options: SendOptions, continueAt?: number): Promise<void> {
    const params: ConversationParams = { ...this.#options.params, ...options.params };
    let index = continueAt ?? -1;
    let message: AssistantMessage | undefined = continueAt === undefined ? undefined : (this.#messages[continueAt] as AssistantMessage);
    const previous = message;
    const previousUsage = message?.usage;
    let received = "";
    let contextRetry = false;
    const update = (next: AssistantMessage) => {
      message = next;
      if (index === -1) {
        index = this.#messages.length;
        this.#append(next);
      } else this.#replace(index, next);
    };
    const fresh = (status: ReplyStatus): AssistantMessage => ({ id: newId(), role: "assistant", content: "", status, createdAt: Date.now() });
    try {
      // The user's message is in the store before the request goes out; if it cannot be saved, nothing is sent.
      await this.#persist?.flush();
      for (;;) {
        const fit = await this.#fit(params, continueAt !== undefined);
        const maxOutput = this.#maxOutput(params);
        this.#lastContext = {
          tokens: fit.tokens,
          budget: fit.budget,
          contextWindow: this.#contextWindow,
          droppedTurns: fit.droppedTurns,
          droppedMessages: fit.dropped.length,
          summarized: fit.summarized,
        };
        const stream = this.#client.chat.completions.create(
          {
            ...params,
            model: this.model,
            messages: toAPIMessages(this.system, fit.messages as readonly (Message | SummaryMessage)[]),
            max_tokens: maxOutput,
            stream: true,
            stream_options: { include_usage: true, ...params.stream_options },
          },
          { ...this.#options.requestOptions, signal: controller.signal },
        );
        let completion: ChatCompletion;
        try {
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta.content ?? "";
            if (message === undefined || message === previous || delta !== "") {
              const base = message ?? fresh("streaming");
              received += delta;
              update({ ...base, content: base.content + delta, status: "streaming", ...(contextRetry && { contextRetry }) });
              if (delta) reply.push(delta);
            }
          }
          completion = await stream.finalCompletion();
        } catch (error) {
          // Once, and only before any text: trim to what the server says fits, then send again.
          if (error instanceof ContextLengthError && !contextRetry && received === "") {
            const learned = learnFromContextError(error, { calibration: this.#calibration, window: this.#contextWindow }, fit.estimate, maxOutput);
            this.#contextWindow = learned.window;
            if (learned.calibration !== this.#calibration) this.#setCalibration(learned.calibration);
            contextRetry = true;
            continue;
          }
          throw error;
        }
        const choice = completion.choices[0];
        const usage = sumUsage(previousUsage, completion.usage ?? undefined);
        const finishReason = choice?.finish_reason ?? undefined;
        const base = message ?? fresh("streaming");
        const final: AssistantMessage = {
          ...base,
          content: (previous?.content ?? "") + (choice?.message.content ?? received),
          // Cut off at max_tokens: partial, and continuable, like an interrupted reply.
          status: finishReason === "length" ? "interrupted" : "complete",
          ...(usage && { usage }),
          ...(finishReason && { finishReason }),
          ...(contextRetry && { contextRetry }),
        };
        delete (final as { error?: unknown }).error;
        update(final);
        if (completion.usage) this.#setCalibration(calibrate(this.#calibration, fit.estimate, completion.usage.prompt_tokens));
        this.#current = undefined;
        reply.finish(final);
        return;
      }
    } catch (error) {
      // A store failure before sending: nothing was sent, so there is no reply to record.
      if (!(error instanceof StorageError)) {
        const status: ReplyStatus =
          error instanceof UserAbortError || error instanceof StreamInterruptedError || error instanceof TimeoutError ? "interrupted" : "error";
        const base = message ?? fresh(status);
        const err = error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };
        update({ ...base, status, error: err, ...(contextRetry && { contextRetry }) });
      }
      this.#fail(reply, error);
    }
  }
}
