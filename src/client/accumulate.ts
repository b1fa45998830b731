import type { ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, ToolCall, ToolCallDelta, Usage } from "./types.js";

/** A tool call as its deltas arrive. */
export interface CallParts {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Fold a chunk's tool-call deltas into `calls` (each changed call replaced by a new object, so a caller's immutable
 * messages stay so). Read as servers send them: a delta without an index is the call at its place in the chunk; a
 * name sent whole again is not appended twice; an id new to the calls at an index another call holds (Ollama sends
 * every call at index 0) starts a call of its own.
 */
export function foldToolCalls<C extends CallParts>(calls: C[], deltas: readonly ToolCallDelta[], blank = { id: "", name: "", arguments: "" } as C): void {
  deltas.forEach((delta, i) => {
    const { index = i, id, function: fn } = delta;
    let at = id ? calls.findIndex((c) => c?.id === id) : -1;
    if (at === -1) at = id && calls[index]?.id ? calls.length : index;
    const call = calls[at] ?? blank;
    const name = fn?.name;
    calls[at] = { ...call, id: id || call.id, name: !name || name === call.name ? call.name : call.name + name, arguments: call.arguments + (fn?.arguments ?? "") };
  });
}

interface ChoiceState {
  /** Null until a content delta arrives: a reply of tool calls only has `content: null`. */
  content: string | null;
  finishReason: string | null;
  toolCalls: CallParts[];
  logprobs: unknown[];
}

/** Folds stream chunks into the completion a non-streaming call would have returned. */
export class CompletionAccumulator {
  #id = "";
  #created = 0;
  #model = "";
  #usage: Usage | undefined;
  readonly #choices: ChoiceState[] = [];
  /** True once any choice has a `finish_reason`: the reply is complete even if `[DONE]` never comes. */
  finished = false;

  add(chunk: ChatCompletionChunk): void {
    if (this.#id === "") {
      this.#id = chunk.id;
      this.#created = chunk.created;
      this.#model = chunk.model;
    }
    if (chunk.usage) this.#usage = chunk.usage;
    for (const choice of chunk.choices) {
      let state = this.#choices[choice.index];
      if (state === undefined) {
        state = { content: null, finishReason: null, toolCalls: [], logprobs: [] };
        this.#choices[choice.index] = state;
      }
      const { content, tool_calls } = choice.delta;
      if (typeof content === "string") state.content = (state.content ?? "") + content;
      if (tool_calls) foldToolCalls(state.toolCalls, tool_calls);
      if (choice.logprobs != null) state.logprobs.push(choice.logprobs);
      if (choice.finish_reason) {
        state.finishReason = choice.finish_reason;
        this.finished = true;
      }
    }
  }

  /** The text of choice 0 so far. */
  get content(): string {
    return this.#choices[0]?.content ?? "";
  }

  result(): ChatCompletion {
    const choices: ChatCompletionChoice[] = [];
    this.#choices.forEach((state, index) => {
      const toolCalls: ToolCall[] = state.toolCalls.filter(Boolean).map(({ id, name, arguments: args }) => ({ id, type: "function", function: { name, arguments: args } }));
      const message: ChatCompletionChoice["message"] = {
        role: "assistant",
        content: state.content ?? (toolCalls.length > 0 ? null : ""),
      };
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      const choice: ChatCompletionChoice = { index, message, finish_reason: state.finishReason };
      if (state.logprobs.length > 0) choice.logprobs = state.logprobs;
      choices.push(choice);
    });
    const completion: ChatCompletion = { id: this.#id, object: "chat.completion", created: this.#created, model: this.#model, choices };
    if (this.#usage) completion.usage = this.#usage;
    return completion;
  }
}
