import { ValidationError } from "../errors/validation.js";
import { type Infer, type StandardSchema, validate } from "../schema/standard.js";
import { ObjectValidationError } from "./error.js";
import { PartialJSON } from "./partial-json.js";

/**
 * The value of a reply's `text`: its JSON (a ```json fence stripped) validated by `schema`; an
 * `ObjectValidationError` otherwise. `json` is the parser that has already read the text as it streamed, if any.
 */
export async function parseObject<S extends StandardSchema>(schema: S, text: string, json?: PartialJSON): Promise<Infer<S>> {
  try {
    return await validate(schema, jsonOf(text, json), "reply value");
  } catch (error) {
    throw error instanceof ValidationError ? new ObjectValidationError(error, text) : error;
  }
}

/** The value of a stored reply (`sendObject`'s, say), validated again: history holds the JSON text. */
export function valueOf<S extends StandardSchema>(message: { readonly content: string }, schema: S): Promise<Infer<S>> {
  return parseObject(schema, message.content);
}

/** Special tokens some servers leak at the end of a reply (DeepInfra's docs show "</s>"): not part of the JSON. */
const LEAKED_TOKEN = /(?:<\/s>|<\|[a-z_]+\|>)\s*$/;

function jsonOf(text: string, json: PartialJSON | undefined): unknown {
  const parse = (text: string) => {
    const json = new PartialJSON();
    json.push(text);
    return json.end();
  };
  try {
    return json ? json.end() : parse(text);
  } catch (error) {
    if (!LEAKED_TOKEN.test(text)) throw error;
    return parse(text.replace(LEAKED_TOKEN, ""));
  }
}
