import { EdgeChatError } from "../errors/base.js";
import { createAPIError } from "../errors/from-response.js";
import type { CallAbort } from "./attempt.js";
import { isErrorPayload, parseReply, redactJSON } from "./reply.js";
import { bodyReadError, type Sent, transportError } from "./request.js";
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
      throw bodyReadError(thrown, attempt.signal, "The connection dropped while the response body was being read");
    }
    const json = parseReply(text, "chat completion", apiKey);
    if (isErrorPayload(json)) throw createAPIError(undefined, redactJSON(json, apiKey), s.response.headers);
    return validate<ChatCompletion>(completionSchema, json, "chat completion");
  } catch (error) {
    throw attempt && !(error instanceof EdgeChatError) ? transportError(error, attempt.signal) : error;
  } finally {
    attempt?.dispose();
    call.dispose();
  }
}
