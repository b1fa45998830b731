import type { Client } from "../client/client.js";
import type { RequestOptions } from "../client/options.js";
import type { ChatCompletion } from "../client/types.js";
import type { Infer, StandardSchema } from "../schema/standard.js";
import { isRefusal, type ObjectParams, objectRequests, rememberRefusal } from "./mode.js";
import { parseObject } from "./parse.js";

/**
 * A JSON value of `params.schema`, not streamed (openai-node's `parse()`): the reply's text parsed (a ```json fence
 * stripped) and validated, or an `ObjectValidationError` naming the path, with the text. `mode` as in `streamObject`.
 */
export async function createObject<S extends StandardSchema>(
  client: Client,
  params: ObjectParams<S>,
  options?: RequestOptions,
): Promise<{ value: Infer<S>; completion: ChatCompletion }> {
  const { schema, first, fallback } = objectRequests(client, params);
  let completion: ChatCompletion;
  try {
    completion = await client.chat.completions.create(first, options);
  } catch (error) {
    if (!fallback || !isRefusal(error)) throw error;
    completion = await client.chat.completions.create(fallback, options);
    rememberRefusal(client);
  }
  const value = await parseObject(schema, completion.choices[0]?.message.content ?? "");
  return { value, completion };
}
