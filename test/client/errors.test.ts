import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as sdk from "../../src/index.ts";
import { APIError, ContextLengthError, createClient, EdgeChatError, RateLimitError, UnprocessableEntityError } from "../../src/index.ts";
import { json, MODEL, startUpstream, type Upstream } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

const messages = [{ role: "user" as const, content: "Hello" }];
const KEY = "di-canary-7f3a9c1e5b2d4f60";

async function failWith(status: number, body: unknown, headers: Record<string, string> = {}) {
  upstream.handle(json(status, body, headers));
  const client = createClient({ apiKey: KEY, baseURL: upstream.baseURL, maxRetries: 0 });
  return client.chat.completions.create({ model: MODEL, messages }).then(
    () => expect.fail("should have thrown"),
    (e: unknown) => e as APIError,
  );
}

describe("status → error class", () => {
  const table: [number, keyof typeof sdk, unknown, boolean][] = [
    [400, "BadRequestError", { error: { message: "bad temperature", type: "invalid_request_error" } }, false],
    [401, "AuthenticationError", { detail: "Invalid token" }, false],
    [402, "PaymentRequiredError", { error: { message: "Insufficient balance" } }, false],
    [403, "PermissionDeniedError", { detail: "Forbidden" }, false],
    [404, "NotFoundError", { detail: "Not Found" }, false],
    [409, "ConflictError", { error: "conflict" }, true],
    [422, "UnprocessableEntityError", { detail: [{ loc: ["body", "messages", 0, "content"], msg: "field required", type: "value_error.missing" }] }, false],
    [429, "RateLimitError", { detail: "Rate limited" }, true],
    [500, "InternalServerError", { error: { message: "boom" } }, true],
    [502, "InternalServerError", "<html>bad gateway</html>", true],
    [503, "InternalServerError", { detail: "Model is loading" }, true],
    // What a server says is for good is not retried: llama.cpp's answer to an image sent to a text-only model, a 501.
    [500, "InternalServerError", { error: { code: 500, message: "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj", type: "server_error" } }, false],
    [501, "InternalServerError", { error: { message: "Not Implemented" } }, false],
  ];
  for (const [status, name, body, retryable] of table) {
    it(`${status} → ${name}`, async () => {
      const error = await failWith(status, body, { "x-request-id": `req-${status}` });
      const Class = sdk[name] as unknown as typeof APIError;
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(APIError);
      expect(error).toBeInstanceOf(EdgeChatError);
      expect(error.name).toBe(name);
      expect(error.status).toBe(status);
      expect(error.retryable).toBe(retryable);
      expect(error.requestID).toBe(`req-${status}`);
      expect(error.headers?.get("x-request-id")).toBe(`req-${status}`);
      expect(error.body).toEqual(body);
      expect(error.message.startsWith(String(status))).toBe(true);
    });
  }

  it("parses FastAPI's detail list on 422", async () => {
    const error = (await failWith(422, {
      detail: [
        { loc: ["body", "messages", 0, "content"], msg: "field required", type: "value_error.missing" },
        { loc: ["body", "temperature"], msg: "ensure this value is less than or equal to 2", type: "value_error" },
      ],
    })) as UnprocessableEntityError;
    expect(error.details).toEqual([
      { loc: ["body", "messages", 0, "content"], msg: "field required", type: "value_error.missing" },
      { loc: ["body", "temperature"], msg: "ensure this value is less than or equal to 2", type: "value_error" },
    ]);
    expect(error.message).toContain("body.messages.0.content: field required");
  });

  it("exposes error.type and error.code from the body", async () => {
    const error = await failWith(400, { error: { message: "nope", type: "invalid_request_error", code: "bad_param" } });
    expect(error.type).toBe("invalid_request_error");
    expect(error.code).toBe("bad_param");
  });
});

describe("context length", () => {
  it("recognises DeepInfra's 500 'Requested input length' and does not retry it", async () => {
    upstream.handle(json(500, { error: { message: "Requested input length 99009 exceeds maximum input length 8192" } }));
    const client = createClient({ baseURL: upstream.baseURL, maxRetries: 3 });
    const error = await client.chat.completions.create({ model: MODEL, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject({ status: 500, limit: 8192, requested: 99009, retryable: false });
    expect(upstream.requests).toHaveLength(1);
  });

  it("recognises vLLM's 400 message with its token split", async () => {
    const error = (await failWith(400, {
      object: "error",
      message:
        "This model's maximum context length is 16000 tokens. However, you requested 17165 tokens (13069 in the messages, 4096 in the completion). Please reduce the length of the messages or completion.",
      type: "BadRequestError",
      code: 400,
    })) as ContextLengthError;
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject({ status: 400, limit: 16000, requested: 17165, promptTokens: 13069, completionTokens: 4096 });
  });

  it("leaves ordinary 400s alone", async () => {
    const error = await failWith(400, { error: { message: "temperature must be at most 2" } });
    expect(error).not.toBeInstanceOf(ContextLengthError);
  });
});

describe("the API key never leaks", () => {
  it("is redacted from a server body that echoes it, and absent from message, toString, JSON and properties", async () => {
    const error = await failWith(401, { detail: `Invalid token: Bearer ${KEY}`, headers: { authorization: `Bearer ${KEY}` } });
    const surfaces = [error.message, String(error), error.stack ?? "", JSON.stringify(error), JSON.stringify(error.body), JSON.stringify(Object.entries(error))];
    for (const text of surfaces) expect(text).not.toContain(KEY);
    expect(error.message).toContain("[redacted]");
  });

  it("is not a property of the client", () => {
    const client = createClient({ apiKey: KEY, baseURL: upstream.baseURL });
    expect(JSON.stringify(client)).not.toContain(KEY);
    expect(Object.values(client).map(String).join()).not.toContain(KEY);
  });

  it("is refused (without quoting it) when it holds a line break", () => {
    const bad = `${KEY}\nX-Evil: 1`;
    const error = (() => {
      try {
        createClient({ apiKey: bad });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(EdgeChatError);
    expect(error?.message).not.toContain(KEY);
  });
});

describe("instanceof across two copies of the package", () => {
  it("works for errors made by another copy", async () => {
    // A second module instance, as when two bundles each include edgechat.
    vi.resetModules();
    const other = (await import("../../src/index.ts")) as typeof sdk;
    expect(other.RateLimitError).not.toBe(RateLimitError);
    upstream.handle(json(429, { detail: "Rate limited" }));
    const error = await other.createClient({ baseURL: upstream.baseURL, maxRetries: 0 }).chat.completions.create({ model: MODEL, messages }).catch((e) => e);
    expect(error).toBeInstanceOf(other.RateLimitError);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(EdgeChatError);
    expect(sdk.isEdgeChatError(error)).toBe(true);
    expect(error).not.toBeInstanceOf(sdk.InternalServerError);
    expect(new Error("plain")).not.toBeInstanceOf(EdgeChatError);
  });
});
