import { foldToolCalls } from "../client/accumulate.js";
import type { ToolCallDelta } from "../client/types.js";
import type { ConversationParams, ToolRunner } from "../conversation/options.js";
import { EdgeChatError } from "../errors/base.js";
import { UserAbortError } from "../errors/transport.js";
import { newId } from "../messages/id.js";
import type { AssistantMessage, ToolCallPart } from "../messages/types.js";
import { validate } from "../schema/standard.js";
import { mayBeCalls, parseCalls } from "./text-calls.js";
import type { Tool } from "./tool.js";

export interface ToolsetOptions {
  /**
   * Most characters of a result, as the model gets it (a string, or JSON), kept (default 100,000): a longer one is
   * cut, with a note saying so. It is stored, and sent again with every later request that carries the turn.
   */
  maxResultLength?: number;
  /**
   * Most requests to the model in one turn (default 8). The last is sent with `tool_choice: "none"`, so the model
   * answers in text; calls it makes anyway are not run (each gets an error result saying why).
   */
  maxSteps?: number;
}

// biome-ignore lint: any tool, whatever its schema and result.
type AnyTool = Tool<any, any>;

/** An id for a call the model wrote as text (or a server sent without one). */
const callId = () => `call_${newId().replaceAll("-", "").slice(0, 24)}`;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The model's view of a refusal, and of a call stopped by `abort()`. */
const REFUSED = "The user refused to run this call.";
const ABORTED = "Stopped: the user aborted the reply.";
const ORPHANED = "Stopped: the page or process running it went away.";

/**
 * The tools of a Conversation (`new Conversation({ ..., tools: toolset({ time, imageSize }) })`) and the loop that
 * runs them: a reply that calls tools has its calls checked against their schemas (bad arguments, an unknown tool or
 * a throw go back to the model as the call's result, never a crash), run — at once, side by side — and stored with
 * their results; then the model is asked again, up to `maxSteps` requests a turn. A tool with `needsApproval`
 * pauses the turn until `Conversation.approve`.
 */
export function toolset(tools: Record<string, AnyTool>, { maxSteps = 8, maxResultLength = 100_000 }: ToolsetOptions = {}): ToolRunner {
  /** A result as JSON holds it (so every store keeps the same), cut to `maxResultLength`. */
  const keep = (result: unknown): unknown => {
    const json = JSON.stringify(result ?? null);
    const text = typeof result === "string" ? result : json;
    return text.length <= maxResultLength ? JSON.parse(json) : `${text.slice(0, maxResultLength)}\n[Cut: the result had ${text.length} characters; these are the first ${maxResultLength}.]`;
  };
  const definitions = Object.entries(tools).map(([name, t]) => ({
    type: "function" as const,
    function: { name, ...(t.description !== undefined && { description: t.description }), parameters: t.jsonSchema },
  }));

  /** The call's arguments, parsed and checked; a string is what is wrong with them, for the model. */
  async function argsOf(call: ToolCallPart): Promise<{ tool: AnyTool; args: unknown } | string> {
    const tool = Object.hasOwn(tools, call.name) ? tools[call.name] : undefined;
    if (!tool) return `Unknown tool "${call.name}". Tools: ${Object.keys(tools).join(", ")}.`;
    let value: unknown;
    try {
      value = JSON.parse(call.arguments || "{}");
    } catch {
      return `Invalid arguments: not JSON: ${call.arguments.slice(0, 200)}`;
    }
    try {
      return { tool, args: await validate(tool.parameters, value, "arguments") };
    } catch (error) {
      return String((error as Error).message);
    }
  }

  /** Run the calls of step `step` that are due; true to ask the model again. */
  async function run(message: AssistantMessage, step: number, update: (message: AssistantMessage) => void, signal: AbortSignal): Promise<boolean> {
    let calls = message.toolCalls;
    if (!calls?.length || message.status !== "complete") return false;
    const set = (i: number, change: Partial<ToolCallPart>) => {
      calls = calls!.map((c, k) => (k === i ? { ...c, ...change } : c));
      update((message = { ...message, toolCalls: calls }));
    };
    // Look at each new call: refuse what cannot run, and ask the user where the tool says so.
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      if (call.state !== "pending") continue;
      const prepared = step >= maxSteps ? `Not run: the limit of ${maxSteps} steps was reached.` : await argsOf(call);
      if (typeof prepared === "string") set(i, { state: "error", result: prepared });
      else {
        const ask = prepared.tool.needsApproval;
        try {
          set(i, { state: (typeof ask === "function" ? await ask(prepared.args) : ask) ? "approval" : "approved" });
        } catch (error) {
          set(i, { state: "error", result: `Error: ${messageOf(error)}` });
        }
      }
    }
    if (calls.some((c) => c.state === "approval")) return false;
    const stopped = new Promise<never>((_, reject) => {
      const stop = () => reject(new UserAbortError());
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    });
    stopped.catch(() => {});
    await Promise.all(
      calls.map(async (call, i) => {
        if (call.state !== "approved") return;
        set(i, { state: "running" });
        const prepared = await argsOf(call);
        if (typeof prepared === "string") return set(i, { state: "error", result: prepared });
        try {
          const result = await Promise.race([prepared.tool.execute(prepared.args, { signal, callId: call.id }), stopped]);
          set(i, { state: "done", result: keep(result) });
        } catch (error) {
          set(i, { state: "error", result: signal.aborted ? ABORTED : `Error: ${messageOf(error)}` });
        }
      }),
    );
    if (signal.aborted) {
      const error = new UserAbortError();
      update({ ...message, status: "interrupted", error: { name: error.name, message: error.message } });
      throw error;
    }
    return step < maxSteps;
  }

  return {
    params(step: number): ConversationParams {
      return { tools: definitions, ...(step >= maxSteps && { tool_choice: "none" }) };
    },

    fold(message: AssistantMessage, deltas: readonly ToolCallDelta[] | undefined, text: string, end: boolean): AssistantMessage {
      let calls = message.toolCalls;
      if (deltas) {
        calls = [...(calls ?? [])];
        foldToolCalls(calls, deltas, { id: "", name: "", arguments: "", state: "input" });
      }
      const before = message.content.slice(0, message.content.length - text.length);
      let content = message.content;
      if (end) {
        // A step cut off (max_tokens, a cancel) may have stopped mid-call: its calls stay `input`, never run or sent
        // (a server that parses the history's arguments refuses half a JSON object), and its text stays text.
        const whole = message.status === "complete";
        const written = calls || !whole ? undefined : parseCalls(text);
        if (written) {
          calls = written.map((c) => ({ ...c, id: callId(), state: "input" }));
          content = before;
        }
        // Written whole: ready to be looked at (holes left by a server skipping an index closed up).
        calls = calls?.filter(Boolean).map((c) => ({ ...c, id: c.id || callId(), state: c.state === "input" && whole ? "pending" : c.state }));
      } else if (!calls && mayBeCalls(text)) content = before;
      return calls ? { ...message, content, toolCalls: calls } : content === message.content ? message : { ...message, content };
    },

    async loop(message, update, signal, next) {
      // A step that failed ends the turn with its failure (not a message).
      let end: AssistantMessage | Awaited<ReturnType<typeof next>> = message;
      const put = (m: AssistantMessage) => update((end = m));
      for (let step = 1; typeof end === "object" && (await run(end as AssistantMessage, step, put, signal)); ) end = await next(++step);
      return end;
    },

    continueFrom({ error: _, ...step }) {
      // Cut off mid-call (`input`), a step has nothing to go on from: only its text can be carried on.
      return step.toolCalls?.length && step.toolCalls.every((c) => c.state !== "input") ? { ...step, status: "complete" } : undefined;
    },

    orphaned(message) {
      const calls = message.toolCalls;
      // Calls left to run (or running) in a step that ended whole, none waiting for the user: a turn cut off mid-run.
      if (message.status !== "complete" || !calls?.some((c) => /^(pending|approved|running)$/.test(c.state)) || calls.some((c) => c.state === "approval")) return undefined;
      return { ...message, status: "interrupted", toolCalls: calls.map((c) => (c.state === "running" ? { ...c, state: "error", result: ORPHANED } : c)) };
    },

    decide(message, callId, approved) {
      const at = message.toolCalls?.findIndex((c) => c.id === callId && c.state === "approval") ?? -1;
      if (at === -1) throw new EdgeChatError(`No tool call "${callId}" waits for approval in the last reply`);
      const change: Partial<ToolCallPart> = approved ? { state: "approved" } : { state: "refused", result: REFUSED };
      return { ...message, toolCalls: message.toolCalls!.map((c, k) => (k === at ? { ...c, ...change } : c)) };
    },
  };
}
