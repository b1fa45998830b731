/** A chat request as the simulator reads it. */
export interface SimRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  maxTokensDefaulted: boolean;
  temperature: number | undefined;
  messages: SimMessage[];
  /** The functions the request declares (none: `tools` absent or empty). */
  tools: SimTool[];
  /** `auto` unless the request says otherwise; a named function as `{ name }`. */
  toolChoice: "auto" | "none" | "required" | { name: string };
  responseFormat: { type: "text" } | { type: "json_object" } | { type: "json_schema"; name: string; schema: Record<string, unknown> | undefined };
}

export interface SimTool {
  name: string;
  description: string;
  /** Its arguments' JSON Schema. */
  parameters: Record<string, unknown> | undefined;
}

export interface SimMessage {
  role: string;
  /** Text parts joined by newlines (plus tool calls as JSON, which count as prompt text). */
  text: string;
  images: string[];
  /** An assistant message's calls. */
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** A tool message: the call it answers. */
  toolCallId?: string;
}

/** One entry of FastAPI's 422 body, as DeepInfra sends for a request that does not validate. */
export interface ValidationDetail {
  type: string;
  loc: (string | number)[];
  msg: string;
}

const ROLES = ["system", "user", "assistant", "tool"];

type Fail = (loc: (string | number)[], type: string, msg: string) => void;
type Read = { ok: true; request: SimRequest } | { ok: false; detail: ValidationDetail[] };

/** Validate what the simulator needs (the proxy has already checked model and max_tokens), in FastAPI's terms. */
export function readRequest(body: Record<string, unknown>, maxTokensDefaulted = false): Read {
  const detail: ValidationDetail[] = [];
  const fail: Fail = (loc, type, msg) => void detail.push({ type, loc: ["body", ...loc], msg });
  const raw = body.messages;
  const messages: SimMessage[] = [];
  if (raw === undefined) fail(["messages"], "missing", "Field required");
  else if (!Array.isArray(raw)) fail(["messages"], "list_type", "Input should be a valid list");
  else if (raw.length === 0) fail(["messages"], "too_short", "List should have at least 1 item after validation, not 0");
  else {
    raw.forEach((m: unknown, i) => {
      const message = readMessage(m, i, fail);
      if (message) messages.push(message);
    });
  }
  if (body.stream != null && typeof body.stream !== "boolean") fail(["stream"], "bool_type", "Input should be a valid boolean");
  const tools = readTools(body.tools, fail);
  const toolChoice = readToolChoice(body.tool_choice, tools, fail);
  const responseFormat = readResponseFormat(body.response_format, fail);
  if (detail.length > 0) return { ok: false, detail };
  return {
    ok: true,
    request: {
      model: String(body.model),
      stream: body.stream === true,
      maxTokens: Number(body.max_tokens),
      maxTokensDefaulted,
      temperature: typeof body.temperature === "number" ? body.temperature : undefined,
      messages,
      tools,
      toolChoice,
      responseFormat,
    },
  };
}

function readMessage(m: unknown, i: number, fail: Fail): SimMessage | undefined {
  if (typeof m !== "object" || m === null) return void fail(["messages", i], "model_type", "Input should be a valid dictionary or object");
  const { role, content, tool_calls, tool_call_id } = m as Record<string, unknown>;
  if (typeof role !== "string" || !ROLES.includes(role)) {
    return void fail(["messages", i, "role"], "literal_error", "Input should be 'system', 'user', 'assistant' or 'tool'");
  }
  const message: SimMessage = { role, text: "", images: [] };
  const texts: string[] = [];
  if (typeof content === "string") texts.push(content);
  else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      const p = (typeof part === "object" && part !== null ? part : {}) as Record<string, unknown>;
      const url = (p.image_url as { url?: unknown } | undefined)?.url;
      if (p.type === "text" && typeof p.text === "string") texts.push(p.text);
      else if (p.type === "image_url" && typeof url === "string") message.images.push(url);
      else fail(["messages", i, "content", j], "union_tag_invalid", "Input should be a text part or an image_url part");
    });
  } else if (!(content == null && role === "assistant")) {
    fail(["messages", i, "content"], "string_type", "Input should be a valid string or a list of content parts");
  }
  if (tool_calls != null) {
    texts.push(JSON.stringify(tool_calls));
    const calls = readToolCalls(tool_calls, ["messages", i, "tool_calls"], fail);
    if (role !== "assistant") fail(["messages", i, "tool_calls"], "extra_forbidden", "Extra inputs are not permitted");
    else if (calls) message.toolCalls = calls;
  }
  if (role === "tool") {
    if (tool_call_id === undefined) fail(["messages", i, "tool_call_id"], "missing", "Field required");
    else if (typeof tool_call_id !== "string") fail(["messages", i, "tool_call_id"], "string_type", "Input should be a valid string");
    else message.toolCallId = tool_call_id;
  }
  message.text = texts.join("\n");
  return message;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function readToolCalls(raw: unknown, loc: (string | number)[], fail: Fail): SimMessage["toolCalls"] {
  if (!Array.isArray(raw)) return void fail(loc, "list_type", "Input should be a valid list");
  const calls: NonNullable<SimMessage["toolCalls"]> = [];
  raw.forEach((call: unknown, j) => {
    if (!isObject(call)) return fail([...loc, j], "model_type", "Input should be a valid dictionary or object");
    const fn = call.function;
    if (typeof call.id !== "string") fail([...loc, j, "id"], call.id === undefined ? "missing" : "string_type", call.id === undefined ? "Field required" : "Input should be a valid string");
    if (call.type !== undefined && call.type !== "function") fail([...loc, j, "type"], "literal_error", "Input should be 'function'");
    if (fn === undefined) return fail([...loc, j, "function"], "missing", "Field required");
    if (!isObject(fn)) return fail([...loc, j, "function"], "model_type", "Input should be a valid dictionary or object");
    if (typeof fn.name !== "string") return fail([...loc, j, "function", "name"], fn.name === undefined ? "missing" : "string_type", "Field required");
    if (typeof fn.arguments !== "string") return fail([...loc, j, "function", "arguments"], fn.arguments === undefined ? "missing" : "string_type", "Input should be a valid string");
    if (typeof call.id === "string") calls.push({ id: call.id, name: fn.name, arguments: fn.arguments });
  });
  return calls;
}

function readTools(raw: unknown, fail: Fail): SimTool[] {
  if (raw == null) return [];
  if (!Array.isArray(raw)) {
    fail(["tools"], "list_type", "Input should be a valid list");
    return [];
  }
  const tools: SimTool[] = [];
  raw.forEach((t: unknown, i) => {
    const loc = ["tools", i];
    if (!isObject(t)) return fail(loc, "model_type", "Input should be a valid dictionary or object");
    if (t.type !== "function") return fail([...loc, "type"], "literal_error", "Input should be 'function'");
    const fn = t.function;
    if (!isObject(fn)) return fail([...loc, "function"], fn === undefined ? "missing" : "model_type", fn === undefined ? "Field required" : "Input should be a valid dictionary or object");
    if (typeof fn.name !== "string") return fail([...loc, "function", "name"], fn.name === undefined ? "missing" : "string_type", fn.name === undefined ? "Field required" : "Input should be a valid string");
    if (fn.parameters != null && !isObject(fn.parameters)) return fail([...loc, "function", "parameters"], "dict_type", "Input should be a valid dictionary");
    if (fn.description != null && typeof fn.description !== "string") return fail([...loc, "function", "description"], "string_type", "Input should be a valid string");
    tools.push({ name: fn.name, description: typeof fn.description === "string" ? fn.description : "", parameters: isObject(fn.parameters) ? fn.parameters : undefined });
  });
  return tools;
}

function readToolChoice(raw: unknown, tools: SimTool[], fail: Fail): SimRequest["toolChoice"] {
  if (raw == null) return "auto";
  if (raw === "auto" || raw === "none" || raw === "required") return raw;
  const name = isObject(raw) && raw.type === "function" && isObject(raw.function) ? raw.function.name : undefined;
  if (typeof name !== "string") {
    fail(["tool_choice"], "literal_error", "Input should be 'none', 'auto', 'required' or a named function");
    return "auto";
  }
  // vLLM's check: the named function must be one of the request's tools.
  if (!tools.some((t) => t.name === name)) fail(["tool_choice"], "value_error", `Value error, the function "${name}" named by tool_choice is not in tools`);
  return { name };
}

function readResponseFormat(raw: unknown, fail: Fail): SimRequest["responseFormat"] {
  if (raw == null) return { type: "text" };
  if (!isObject(raw)) {
    fail(["response_format"], "model_type", "Input should be a valid dictionary or object");
    return { type: "text" };
  }
  if (raw.type === "text" || raw.type === "json_object") return { type: raw.type };
  if (raw.type !== "json_schema") {
    fail(["response_format", "type"], "literal_error", "Input should be 'text', 'json_object' or 'json_schema'");
    return { type: "text" };
  }
  const spec = raw.json_schema;
  if (!isObject(spec)) {
    fail(["response_format", "json_schema"], spec === undefined ? "missing" : "model_type", spec === undefined ? "Field required" : "Input should be a valid dictionary or object");
    return { type: "text" };
  }
  if (typeof spec.name !== "string") fail(["response_format", "json_schema", "name"], spec.name === undefined ? "missing" : "string_type", "Field required");
  const schema = spec.schema ?? spec.schema_;
  if (schema != null && !isObject(schema)) fail(["response_format", "json_schema", "schema"], "dict_type", "Input should be a valid dictionary");
  return { type: "json_schema", name: String(spec.name), schema: isObject(schema) ? schema : undefined };
}
