// Type tests for tools (checked by `tsc -p test/tsconfig.json`, never run): a tool's arguments are its schema's
// output, in `execute` and `needsApproval`; a toolset is what a Conversation takes; a call's state is a closed union.
import * as v from "valibot";
import { describe, expectTypeOf, it } from "vitest";
import { type Client, Conversation, type ToolCallPart, type ToolRunner } from "../../src/index.ts";
import { type StandardSchema, type Tool, type ToolContext, tool, toolset } from "../../src/tools/index.ts";

declare const client: Client;

describe("tool()", () => {
  it("types execute's and needsApproval's arguments from the schema, and keeps the result type", () => {
    const weather = tool({
      parameters: v.object({ city: v.string(), days: v.optional(v.number(), 1) }),
      needsApproval: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; days: number }>();
        return args.days > 3;
      },
      execute: (args, context) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; days: number }>();
        expectTypeOf(context).toEqualTypeOf<ToolContext>();
        return { temperature: 21 };
      },
    });
    expectTypeOf(weather.jsonSchema).toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf(weather).toMatchTypeOf<Tool<StandardSchema, { temperature: number }>>();
    // @ts-expect-error: a schema is required
    tool({ execute: () => 1 });
  });

  it("a toolset is what a Conversation's tools option takes", () => {
    const tools = toolset({ now: tool({ parameters: v.object({}), execute: () => Date.now() }) }, { maxSteps: 3 });
    expectTypeOf(tools).toEqualTypeOf<ToolRunner>();
    new Conversation({ client, model: "m", contextWindow: 8192, tools });
    expectTypeOf<ToolCallPart["state"]>().toEqualTypeOf<"input" | "pending" | "approval" | "approved" | "running" | "done" | "error" | "refused">();
    expectTypeOf<Parameters<Conversation["approve"]>[0]>().toEqualTypeOf<string>();
    expectTypeOf<Parameters<Conversation["approve"]>[1]>().toEqualTypeOf<boolean | undefined>();
  });
});
