import { type Infer, type StandardSchema, toJSONSchema } from "../schema/standard.js";

/** What a tool's `execute` gets besides its arguments. */
export interface ToolContext {
  /** Aborts when the reply is stopped (`abort()`): a long tool should stop too. */
  signal: AbortSignal;
  /** The call's id, as stored in the reply's `toolCalls`. */
  callId: string;
}

export interface ToolDefinition<S extends StandardSchema = StandardSchema, R = unknown> {
  /** Tells the model when to use it. */
  description?: string;
  /** Its arguments: a valibot schema, or any Standard Schema. Calls are checked against it before they run. */
  parameters: S;
  /** The JSON Schema sent to the model; default made from `parameters` (valibot, or a Standard JSON Schema). */
  jsonSchema?: Record<string, unknown>;
  /** Runs where the Conversation runs (a page, a Worker, Deno). Returns something JSON can hold; a throw is told to the model. */
  execute(args: Infer<S>, context: ToolContext): R | Promise<R>;
  /** Ask the user before each call (or before the calls this says): the turn pauses until `Conversation.approve`. */
  needsApproval?: boolean | ((args: Infer<S>) => boolean | Promise<boolean>);
}

/** A tool as `toolset` takes it: its definition, with its JSON Schema made once. */
export interface Tool<S extends StandardSchema = StandardSchema, R = unknown> extends ToolDefinition<S, R> {
  jsonSchema: Record<string, unknown>;
}

/** Define a tool; its JSON Schema is made here, once. */
export function tool<S extends StandardSchema, R>(definition: ToolDefinition<S, R>): Tool<S, R> {
  return { ...definition, jsonSchema: definition.jsonSchema ?? toJSONSchema(definition.parameters) };
}
