// Bad requests against llama-server, typed with the server's own words. What llama.cpp answers (this build):
//   unknown route             404 {"error":{"message":"File Not Found","type":"not_found_error","code":404}}
//   a parameter out of range  400 invalid_request_error "Field 'max_tokens': Value must be between -1 <= value <= …, but got -5"
//   a parameter of wrong type 400 invalid_request_error "Field 'temperature': [json.exception.type_error.302] type must be number, …"
//   no messages               400 invalid_request_error "'messages' is required"
//   body that is not JSON     500 server_error "[json.exception.parse_error.101] parse error at line 1, …" (a 500, not a 400)
// It accepts `messages: []`, unknown roles, and `response_format: {type: "json_schema"}` without a schema.
import { describe, expect, it } from "vitest";
import { APIError, BadRequestError, type ChatCompletionCreateParamsNonStreaming, InternalServerError, NotFoundError, type RetryInfo } from "../../src/index.ts";
import { MODEL, peer, peerClient, rawPost } from "./peer.ts";

const hello = [{ role: "user" as const, content: "hi" }];

/** The error a request ends with, and the retries the client made on the way. */
async function failure(params: Record<string, unknown>, options: Parameters<typeof peerClient>[0] = {}) {
  const retries: RetryInfo[] = [];
  const client = peerClient({ onRetry: (info) => retries.push(info), ...options });
  const error = await client.chat.completions.create(params as unknown as ChatCompletionCreateParamsNonStreaming).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error: error as APIError, retries };
}

/** The same, streamed: the server answers before the first event, so the error comes with the status. */
async function streamFailure(params: Record<string, unknown>) {
  const stream = peerClient().chat.completions.create({ ...(params as any), stream: true });
  try {
    for await (const _ of stream);
  } catch (error) {
    return error as APIError;
  }
  throw new Error("the stream did not fail");
}

describe("bad requests, typed with the server's words", () => {
  it("an unknown route: NotFoundError, 404, the server's message and type", async () => {
    const { error, retries } = await failure({ model: MODEL, messages: hello, max_tokens: 1 }, { baseURL: `${peer().baseURL}/v2` });
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, type: "not_found_error", code: 404, retryable: false, message: "404 Not found: File Not Found" });
    expect(retries).toEqual([]);
  });

  it.each([
    ["max_tokens out of range", { max_tokens: -5 }, "Field 'max_tokens': Value must be between -1 <= value <= 2147483647, but got -5"],
    ["temperature of the wrong type", { max_tokens: 1, temperature: "hot" }, "Field 'temperature': [json.exception.type_error.302] type must be number, but is string"],
    ["n above the server's slots", { max_tokens: 1, n: 3 }, "Field 'n': Value must be between 1 <= value <= 1, but got 3"],
    ["no messages", { max_tokens: 1, messages: undefined }, "'messages' is required"],
  ])("%s: BadRequestError, 400, the server's words, not retried", async (_, extra, words) => {
    const params = { model: MODEL, messages: hello, ...extra };
    const { error, retries } = await failure(params);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error", code: 400, retryable: false, message: `400 Bad request: ${words}` });
    expect(retries).toEqual([]);
    // And the raw answer says just that.
    expect(JSON.parse((await rawPost("/v1/chat/completions", JSON.stringify(params))).text).error.message).toBe(words);
  });

  it("the same when streaming: the error arrives with the status, before any event", async () => {
    const error = await streamFailure({ model: MODEL, messages: hello, max_tokens: -5 });
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error" });
    expect(error.message).toContain("Field 'max_tokens'");
  });

  it("a body that is not JSON: llama.cpp answers 500 server_error with the parser's words; typed InternalServerError, retried as any 500 is", async () => {
    // The SDK never sends broken JSON; a fetch that cuts the body short stands in for a proxy that does.
    const cut: typeof fetch = (input, init) => fetch(input, { ...init, body: String(init?.body).slice(0, -1) });
    const { error, retries } = await failure({ model: MODEL, messages: hello, max_tokens: 1 }, { fetch: cut, maxRetries: 1 });
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 500, type: "server_error", retryable: true });
    expect(error.message).toMatch(/^500 Internal server error: \[json\.exception\.parse_error\.101\] parse error at line 1, column \d+: syntax error while parsing object/);
    expect(retries).toHaveLength(1);
  });
});
