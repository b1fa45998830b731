// A continue request (the SDK's `continue()`): the history, the reply so far as an assistant message, and a user
// message asking to carry on. The simulator answers as the model should: the rest of the reply it would have
// given to the history, after the part the client already has, instead of starting over.
import type { SimRequest } from "./request.js";

/** The SDK's CONTINUE_PROMPT (src/conversation/conversation.ts); test/demo/simulated.test.ts checks they agree. */
export const CONTINUE_PROMPT = "Continue exactly where your previous message stopped. Do not repeat anything; do not add a preamble.";

export interface Continuation {
  /** The request the interrupted reply answered: the history without the reply and the prompt. */
  original: SimRequest;
  /** The reply's text so far. */
  partial: string;
}

export function continuation(request: SimRequest): Continuation | undefined {
  const [reply, prompt] = request.messages.slice(-2);
  if (prompt?.role !== "user" || prompt.text.trim() !== CONTINUE_PROMPT || prompt.images.length > 0 || reply?.role !== "assistant") return undefined;
  return { original: { ...request, messages: request.messages.slice(0, -2) }, partial: reply.text };
}

/**
 * The pieces of a reply after `partial`, cut where the partial text ends (inside a piece if need be), or undefined
 * when the reply does not start with it (the history changed, or the text was not the simulator's).
 */
export function piecesAfter(pieces: readonly string[], partial: string): string[] | undefined {
  if (!pieces.join("").startsWith(partial)) return undefined;
  const rest: string[] = [];
  let at = 0;
  for (const piece of pieces) {
    const end = at + piece.length;
    if (end > partial.length) rest.push(at >= partial.length ? piece : piece.slice(partial.length - at));
    at = end;
  }
  return rest;
}

export const LOST_PLACE =
  "(The simulator cannot carry this reply on: the text so far is not the start of what it would answer to this conversation, so it does not know where it stopped.)";
