// edgechat/tools: tools a Conversation's model may call, run where the Conversation runs (a page, a Worker, Deno).
//
//   const chat = new Conversation({ client, model, tools: toolset({ time: tool({ parameters: v.object({}), execute: () => new Date().toString() }) }) });
//
// Kept out of the main entry: a Conversation without tools carries none of this, nor the JSON Schema converter.
export { tool, type Tool, type ToolContext, type ToolDefinition } from "./tool.js";
export { toolset, type ToolsetOptions } from "./toolset.js";
export type { StandardSchema, Infer } from "../schema/standard.js";
