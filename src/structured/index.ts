// edgechat/structured: replies that are JSON values of a schema (any Standard Schema: valibot, zod, arktype…). One
// completion streamed (`streamObject`: the value so far as it arrives, then the validated value) or not
// (`createObject`), a Conversation's reply (`sendObject`, stored as its JSON text; `valueOf` reads a stored one
// again), the `response_format` itself, and the incremental JSON parser under them all.
//
// Deliberately not exported: the mode plumbing (which request "auto" sends, the per-client memory of servers that
// refuse `json_schema`) and the system text that tells a `json_object` server the schema. Partial values are not
// validated against the schema (they cannot be: most are not values of it yet), and not copied.
export { responseFormat, type ResponseFormatOptions } from "./response-format.js";
export type { ObjectMode, ObjectParams } from "./mode.js";
export { streamObject, type DeepPartial, type ObjectStream } from "./object-stream.js";
export { createObject } from "./create-object.js";
export { sendObject, type ObjectReply, type SendObjectOptions } from "./send-object.js";
export { valueOf } from "./parse.js";
export { ObjectValidationError } from "./error.js";
export { PartialJSON } from "./partial-json.js";
