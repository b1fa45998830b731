import type { Conversation } from "../conversation/conversation.js";
import type { SendOptions } from "../conversation/options.js";
import type { Reply } from "../conversation/reply.js";
import { type Infer, type StandardSchema, toJSONSchema } from "../schema/standard.js";
import type { ObjectMode } from "./mode.js";
import type { DeepPartial } from "./object-stream.js";
import { parseObject } from "./parse.js";
import { PartialJSON } from "./partial-json.js";
import { formatOf, type ResponseFormatOptions, schemaInstruction } from "./response-format.js";

export interface SendObjectOptions<S extends StandardSchema> extends Omit<SendOptions, "fallback">, ResponseFormatOptions {
  schema: S;
  /** As in `streamObject`; default "auto". */
  mode?: ObjectMode;
}

/**
 * A structured reply of a Conversation, from `sendObject`: async-iterable over the value so far (live, as
 * `ObjectStream`'s are), which reads `reply` (its one iteration). As with any `Reply`, `break` stops your reading
 * only; `reply.abort()` stops the reply.
 */
export interface ObjectReply<T> extends AsyncIterable<DeepPartial<T>> {
  /** The reply itself; its message's `content` is the JSON text (`valueOf` validates a stored one again). */
  readonly reply: Reply;
  /** When the reply completes: its value, or an `ObjectValidationError`; the reply's own error if it fails. */
  readonly value: Promise<T>;
}

/**
 * Send `content` and have the reply be a JSON value of `options.schema`. The reply is an ordinary one, stored as
 * its JSON text. In "auto" mode a server that refuses `json_schema` before any text gets the same request once
 * more with `json_object` and the schema in the system text, within the same reply (the `fallback` send option).
 */
export function sendObject<S extends StandardSchema>(conversation: Conversation, content: Parameters<Conversation["send"]>[0], options: SendObjectOptions<S>): ObjectReply<Infer<S>> {
  const { schema, mode = "auto", name, description, strict, ...send } = options;
  const json = toJSONSchema(schema);
  const asObject = {
    params: { ...send.params, response_format: { type: "json_object" as const } },
    instructions: send.instructions ? `${send.instructions}\n\n${schemaInstruction(json)}` : schemaInstruction(json),
  };
  const asSchema = { params: { ...send.params, response_format: formatOf(json, { name, description, strict }) } };
  const reply = conversation.send(
    content,
    mode === "json_object" ? { ...send, ...asObject } : { ...send, ...asSchema, ...(mode === "auto" && { fallback: asObject }) },
  );
  const value = reply.done.then((message) => parseObject(schema, message.content));
  value.catch(() => {});
  return {
    reply,
    value,
    // Taken at once, as a ChatStream's is: a second iteration throws here, not at its first step.
    [Symbol.asyncIterator]: () => partials<Infer<S>>(reply[Symbol.asyncIterator]()),
  };
}

async function* partials<T>(deltas: AsyncIterator<string>): AsyncGenerator<DeepPartial<T>, void, undefined> {
  const json = new PartialJSON();
  for await (const delta of { [Symbol.asyncIterator]: () => deltas }) {
    const changes = json.changes;
    let partial: unknown;
    try {
      partial = json.push(delta);
    } catch {
      continue; // not JSON (or a leaked special token after it): `value` says which
    }
    if (json.changes !== changes) yield partial as DeepPartial<T>;
  }
}
