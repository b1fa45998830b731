import { EdgeChatError } from "../errors/base.js";
import { createAPIError } from "../errors/from-response.js";
import { ConnectionError, StreamInterruptedError } from "../errors/transport.js";
import { ValidationError } from "../errors/validation.js";
import type { CallAbort } from "./attempt.js";
import { redact } from "./read-text.js";
import { type Sent, transportError } from "./request.js";
import { completionSchema, validate } from "./schemas.js";
import type { ChatCompletion } from "./types.js";

/** Read and validate a non-streaming reply. */
export async function readCompletion(sent: Promise<Sent>, call: CallAbort, apiKey: string | undefined): Promise<ChatCompletion> {
  let attempt: Sent["attempt"] | undefined;
  try {
    const s = await sent;
    attempt = s.attempt;
    let text: string;
    try {
      text = await s.response.text();
    } catch (thrown) {
      const error = transportError(thrown, attempt.signal);
      throw error instanceof ConnectionError
        ? new StreamInterruptedError("The connection dropped while the response body was being read", { cause: thrown })
        : error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidationError("chat completion", [{ path: "", message: `not JSON: ${JSON.stringify(redact(text, apiKey).slice(0, 120))}` }]);
    }
    const inner = typeof json === "object" && json !== null ? (json as { error?: unknown; object?: unknown }) : undefined;
    if (inner && ((inner.error !== undefined && inner.error !== null) || inner.object === "error")) {
      // Some servers answer 200 with an error body.
      throw createAPIError(undefined, JSON.parse(redact(text, apiKey)), s.response.headers);
    }
    return validate<ChatCompletion>(completionSchema, json, "chat completion");
  } catch (error) {
    throw attempt && !(error instanceof EdgeChatError) ? transportError(error, attempt.signal) : error;
  } finally {
    attempt?.dispose();
    call.dispose();
  }
}
