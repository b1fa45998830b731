import type { Config } from "../proxy/config.js";
import { json } from "../proxy/errors.js";
import type { DurableObjectNamespace } from "../platform.js";
import { parseCommand } from "./commands.js";
import { continuation, LOST_PLACE, piecesAfter } from "./continue.js";
import { gatherFacts, type RequestFacts } from "./facts.js";
import { type PacedEvent, pacedStream, sleep } from "./pace.js";
import { jsonAnswer, jsonMode } from "./json-reply.js";
import { describeRequest, errorPrelude, helpText, slowText, xssText } from "./reply.js";
import { readRequest, type SimRequest } from "./request.js";
import { countAttempt } from "./state.js";
import { toTokens } from "./tokens.js";
import { answerFromResults, type PlannedCall, planCalls, resultObjects } from "./tools.js";
import { chunk, completion, type Envelope, envelope, sse, usage } from "./wire.js";

const SLOW_TOKENS_PER_SECOND = 10;
/** A non-streaming reply takes as long as generating it would, up to this. */
const MAX_NON_STREAMING_WAIT_MS = 30_000;
export const RETRY_AFTER_SECONDS = 3;

export interface SimulateContext {
  /** The body exactly as the client sent it: a retry sends the same bytes, which is how `/ratelimit` knows one. */
  rawBody: string;
  /** The request had no max_tokens: the proxy set its cap. */
  maxTokensDefaulted: boolean;
  config: Config;
  state: DurableObjectNamespace;
}

/**
 * Answer a checked chat request as DeepInfra would, with a reply built from facts about the request. A continue
 * request gets the rest of the reply to the history before it (continue.ts). With `tools`, a message that asks for
 * what one does gets a call, and tool results get an answer written from them (tools.ts); asked for JSON, it answers
 * in JSON (json-reply.ts).
 */
export async function simulate(body: Record<string, unknown>, { rawBody, maxTokensDefaulted, config, state }: SimulateContext): Promise<Response> {
  const read = readRequest(body, maxTokensDefaulted);
  if (!read.ok) return json(422, { detail: read.detail });
  const request = read.request;
  const continued = continuation(request);
  // The reply describes the request it answers (the original one, when continuing); usage counts what was sent.
  const sent = await gatherFacts(request);
  const facts = continued ? await gatherFacts(continued.original) : sent;
  const command = parseCommand(facts.lastUser?.text ?? "");

  // A continuation carries on a reply that already went through.
  if (command?.name === "/ratelimit" && !continued) {
    const failures = Math.min(10, Math.max(1, Number.parseInt(command.args[0] ?? "1", 10) || 1));
    if ((await countAttempt(state, rawBody)) <= failures) {
      return json(429, { detail: "Rate limited" }, { "retry-after": String(RETRY_AFTER_SECONDS) });
    }
  }
  // DeepInfra's context overflow (HTTP 500, recognised by its message). /context adds a full window to the estimate.
  const requested = sent.promptTokens + (command?.name === "/context" && !continued ? facts.contextWindow : 0);
  if (requested > facts.contextWindow) {
    return json(500, { error: { message: `Requested input length ${requested} exceeds maximum input length ${facts.contextWindow}` } });
  }

  const e = envelope(request.model);
  let text: string;
  let pace = config.tokensPerSecond;
  let failure: unknown;
  switch (command?.known ? command.name : undefined) {
    case "/help":
      text = helpText();
      break;
    case "/slow":
      text = slowText();
      // Slow so that there is time to press Stop; carrying on after a Stop (continue) goes at the usual pace.
      if (!continued) pace = Math.min(pace, SLOW_TOKENS_PER_SECOND);
      break;
    case "/xss":
      text = xssText();
      break;
    case "/error": {
      text = errorPrelude();
      const message = "Simulated failure (/error): the model server stopped generating mid-stream";
      failure = command?.args[0]?.toLowerCase() === "vllm"
        ? { object: "error", message, type: "InternalServerError", param: null, code: 500 }
        : { error: { message, type: "internal_server_error", code: 500 } };
      break;
    }
    case "/ratelimit":
      text = `${describeRequest(facts)}\n\nThis was \`/ratelimit\`: the earlier tries of this exact request got 429, and this retry went through.`;
      break;
    default: {
      // A continuation carries on a reply of text, and a command is never a question for a tool.
      const calls = continued || command ? [] : planCalls(request, facts);
      if (calls.length > 0) return callReply(e, calls, request, sent.promptTokens, pace);
      text = ordinaryText(continued ? continued.original : request, facts, command && !command.known ? command.name : undefined);
    }
  }

  const all = continued ? (piecesAfter(toTokens(text), continued.partial) ?? toTokens(LOST_PLACE)) : toTokens(text);
  const pieces = all.slice(0, request.maxTokens);
  const finishReason = pieces.length < all.length ? "length" : "stop";
  const u = usage(request.model, sent.promptTokens, pieces.length);

  if (!request.stream) {
    await sleep(Math.min(MAX_NON_STREAMING_WAIT_MS, (pieces.length / pace) * 1000));
    if (failure) return json(500, failure);
    return json(200, completion(e, pieces.join(""), finishReason, u));
  }
  const events: PacedEvent[] = [
    { data: sse(chunk(e, { role: "assistant", content: "" })), token: false },
    ...pieces.map((p) => ({ data: sse(chunk(e, { content: p })), token: true })),
    failure
      ? { data: sse(failure), token: false }
      : { data: sse(chunk(e, { role: "assistant", content: "" }, finishReason, u)), token: false },
    { data: sse("[DONE]"), token: false },
  ];
  return new Response(pacedStream(events, pace), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

/** A reply of text: from the tool results the request ends with, JSON when asked for, else what was measured. */
function ordinaryText(request: SimRequest, facts: RequestFacts, unknownCommand: string | undefined): string {
  const json = unknownCommand ? undefined : jsonMode(request, facts.lastUser?.text ?? "");
  if (request.messages.at(-1)?.role === "tool") return json ? jsonAnswer(json, facts, resultObjects(request)) : answerFromResults(request);
  return json ? jsonAnswer(json, facts) : describeRequest(facts, unknownCommand);
}

/**
 * Tool calls, as DeepInfra and vLLM stream them: per call, a delta with its index, id, type, name and empty
 * arguments, then the arguments in token-sized pieces (each counted as a completion token, like the call's first
 * delta); `finish_reason: "tool_calls"` — or `length` when `max_tokens` cuts the arguments.
 */
async function callReply(e: Envelope, calls: PlannedCall[], request: SimRequest, promptTokens: number, pace: number): Promise<Response> {
  const deltas = calls.flatMap((call, index) => [
    { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
    ...toTokens(call.arguments).map((piece) => ({ index, function: { arguments: piece } })),
  ]);
  const kept = deltas.slice(0, request.maxTokens);
  const finishReason = kept.length < deltas.length ? "length" : "tool_calls";
  const u = usage(request.model, promptTokens, kept.length);
  if (!request.stream) {
    await sleep(Math.min(MAX_NON_STREAMING_WAIT_MS, (kept.length / pace) * 1000));
    const written = calls
      .map((call, index) => ({ id: call.id, type: "function", function: { name: call.name, arguments: kept.filter((d) => d.index === index).map((d) => d.function.arguments).join("") } }))
      .filter((_, index) => kept.some((d) => d.index === index));
    return json(200, completion(e, null, finishReason, u, written));
  }
  const events: PacedEvent[] = [
    { data: sse(chunk(e, { role: "assistant", content: "" })), token: false },
    ...kept.map((d) => ({ data: sse(chunk(e, { tool_calls: [d] })), token: true })),
    { data: sse(chunk(e, { role: "assistant", content: "" }, finishReason, u)), token: false },
    { data: sse("[DONE]"), token: false },
  ];
  return new Response(pacedStream(events, pace), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}
