/** A chat request as the simulator reads it. */
export interface SimRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  maxTokensDefaulted: boolean;
  temperature: number | undefined;
  messages: SimMessage[];
}

export interface SimMessage {
  role: string;
  /** Text parts joined by newlines (plus tool calls as JSON, which count as prompt text). */
  text: string;
  images: string[];
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
    },
  };
}

function readMessage(m: unknown, i: number, fail: Fail): SimMessage | undefined {
  if (typeof m !== "object" || m === null) return void fail(["messages", i], "model_type", "Input should be a valid dictionary or object");
  const { role, content, tool_calls } = m as Record<string, unknown>;
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
  if (tool_calls !== undefined) texts.push(JSON.stringify(tool_calls));
  message.text = texts.join("\n");
  return message;
}
