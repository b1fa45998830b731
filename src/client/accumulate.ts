import type { ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, ToolCall, Usage } from "./types.js";

interface ChoiceState {
  /** Null until a content delta arrives: a reply of tool calls only has `content: null`. */
  content: string | null;
  finishReason: string | null;
  toolCalls: ToolCall[];
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
      if (tool_calls) {
        for (const delta of tool_calls) {
          const call = (state.toolCalls[delta.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
          if (delta.id) call.id = delta.id;
          if (delta.function?.name) call.function.name += delta.function.name;
          if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
        }
      }
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
      const toolCalls = state.toolCalls.filter(Boolean);
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
