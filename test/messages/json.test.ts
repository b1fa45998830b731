// Reading a conversation document (src/messages/json.ts): what each check rejects, with which path and words, and what
// an accepted document becomes (unknown keys dropped or kept, image bytes decoded, tool results kept as they are).
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors/validation.ts";
import { parseConversationJSON, parseJSONText } from "../../src/messages/json.ts";

const user = () => ({ id: "u1", role: "user", createdAt: 1, content: [{ type: "text", text: "hi" }, { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png", width: 1, height: 1 }] });
const reply = () => ({
  id: "a1",
  role: "assistant",
  parentId: "u1",
  createdAt: 2,
  content: "hello",
  status: "complete",
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, estimated_cost: 0.1 },
  toolCalls: [{ id: "c1", name: "get_weather", arguments: "{}", state: "done", result: { temp: 21 } }],
});
const doc = (more: Record<string, unknown> = {}, messages: unknown[] = [user(), reply()]) => ({
  format: "edgechat.conversation",
  version: 2,
  id: "c1",
  model: "m",
  createdAt: 1,
  messages,
  ...more,
});

/** The one issue a bad document is rejected with. */
function rejection(input: unknown): { path: string; message: string } {
  try {
    parseConversationJSON(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const { issues } = error as ValidationError;
    expect(issues).toHaveLength(1);
    return issues[0]!;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

const withUser = (part: Record<string, unknown>) => doc({}, [{ ...user(), ...part }]);
const withReply = (part: Record<string, unknown>) => doc({}, [user(), { ...reply(), ...part }]);
const without = (object: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
const withPart = (part: unknown) => withUser({ content: [part] });
const withCall = (call: Record<string, unknown>) => withReply({ toolCalls: [{ ...reply().toolCalls[0], ...call }] });

describe("parseConversationJSON rejects", () => {
  const cases: [string, unknown, string, string][] = [
    ["not an object", null, "", "Invalid type: Expected Object but received null"],
    ["an array", [], "format", 'Invalid key: Expected "format" but received undefined'],
    ["another format", doc({ format: "x" }), "format", 'Invalid type: Expected "edgechat.conversation" but received "x"'],
    ["an unknown version", doc({ version: 3 }), "version", "Invalid type: Expected (1 | 2) but received 3"],
    ["an empty id", doc({ id: "" }), "id", "Expected a non-empty string"],
    ["a missing model", without(doc(), "model"), "model", 'Invalid key: Expected "model" but received undefined'],
    ["an infinite createdAt", doc({ createdAt: Infinity }), "createdAt", "Expected a finite number"],
    ["NaN", doc({ createdAt: Number.NaN }), "createdAt", "Invalid type: Expected number but received NaN"],
    ["a fractional sample count", doc({ calibration: { text: 1, image: 1, samples: 1.5 } }), "calibration.samples", "Expected an integer >= 0"],
    ["a negative factor", doc({ calibration: { text: -1, image: 1, samples: 1 } }), "calibration.text", "Expected a finite number >= 0"],
    ["a negative cost", doc({ usage: { promptTokens: 1, completionTokens: 1, cost: -1 } }), "usage.cost", "Expected a finite number >= 0"],
    ["`undefined` for an optional key", doc({ system: undefined }), "system", "Invalid type: Expected string but received undefined"],
    ["an empty activeLeaf", doc({ activeLeaf: "" }), "activeLeaf", "Expected a non-empty string"],
    ["messages not a list", doc({ messages: {} }), "messages", "Invalid type: Expected Array but received Object"],
    ["a message that is not an object", doc({}, [user(), null]), "messages[1]", "Invalid type: Expected Object but received null"],
    ["an unknown role", withUser({ role: "bot" }), "messages[0].role", 'Invalid type: Expected ("user" | "assistant") but received "bot"'],
    ["an empty parentId", withUser({ parentId: "" }), "messages[0].parentId", "Expected a non-empty string"],
    ["a pinned that is not a boolean", withUser({ pinned: "yes" }), "messages[0].pinned", 'Invalid type: Expected boolean but received "yes"'],
    ["content of the wrong type", withUser({ content: 42 }), "messages[0].content", "Invalid type: Expected (string | Array) but received 42"],
    ["an unknown part", withPart({ type: "video" }), "messages[0].content[0].type", 'Invalid type: Expected ("text" | "image") but received "video"'],
    ["text that is not a string", withPart({ type: "text", text: 7 }), "messages[0].content[0].text", "Invalid type: Expected string but received 7"],
    ["data that is not base64", withPart({ type: "image", data: "@@", mimeType: "image/png" }), "messages[0].content[0].data", "Expected base64"],
    ["a type that is not an image's", withPart({ type: "image", data: "QQ==", mimeType: "text/plain" }), "messages[0].content[0].mimeType", 'Expected a type starting with "image/"'],
    ["a URL that is not http(s)", withPart({ type: "image", url: "ftp://example.com/a.png" }), "messages[0].content[0].url", "Expected an http(s) image URL"],
    ["an image with neither", withPart({ type: "image" }), "messages[0].content[0].url", 'Invalid key: Expected "url" but received undefined'],
    ["a zero width", withPart({ type: "image", url: "https://example.com/a.png", width: 0 }), "messages[0].content[0].width", "Expected an integer >= 1"],
    ["an unknown status", withReply({ status: "done" }), "messages[1].status", 'Invalid type: Expected ("streaming" | "complete" | "interrupted" | "error") but received "done"'],
    ["a negative token count", withReply({ usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: -1 } }), "messages[1].usage.total_tokens", "Expected an integer >= 0"],
    ["an infinite cost", withReply({ usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, estimated_cost: Infinity } }), "messages[1].usage.estimated_cost", "Expected a finite number"],
    ["an error without a message", withReply({ error: { name: "E" } }), "messages[1].error.message", 'Invalid key: Expected "message" but received undefined'],
    ["a contextRetry that is not a boolean", withReply({ contextRetry: 1 }), "messages[1].contextRetry", "Invalid type: Expected boolean but received 1"],
    ["a resume point without a URL", withReply({ resume: { url: 1, lastEventId: "3" } }), "messages[1].resume.url", "Invalid type: Expected string but received 1"],
    ["toolCalls not a list", withReply({ toolCalls: {} }), "messages[1].toolCalls", "Invalid type: Expected Array but received Object"],
    ["a call's arguments as an object", withCall({ arguments: {} }), "messages[1].toolCalls[0].arguments", "Invalid type: Expected string but received Object"],
    ["a call in an unknown state", withCall({ state: "finished" }), "messages[1].toolCalls[0].state", 'Invalid type: Expected ("input" | "pending" | "approval" | "approved" | "running" | "done" | "error" | "refused") but received "finished"'],
    ["a duplicate id", doc({}, [user(), user()]), "messages[1].id", 'duplicate id "u1"'],
    ["a parent after its child", doc({}, [{ ...user(), parentId: "a1" }, reply()]), "messages[0].parentId", '"a1" is not an earlier message'],
    ["an active leaf not in the document", doc({ activeLeaf: "zz" }), "activeLeaf", '"zz" is not a message'],
  ];
  for (const [what, input, path, message] of cases) {
    it(what, () => expect(rejection(input)).toEqual({ path, message }));
  }

  it("names the path in the error's message", () => {
    expect(() => parseConversationJSON(withPart({ type: "image", data: "@@", mimeType: "image/png" }))).toThrow("Invalid conversation JSON: messages[0].content[0].data: Expected base64");
  });

  it("text that is not JSON", () => {
    expect(() => parseJSONText("{")).toThrow(ValidationError);
    expect(() => parseJSONText("{")).toThrow(/^Invalid conversation JSON: not JSON/);
  });
});

describe("parseConversationJSON accepts", () => {
  it("a whole document, unknown keys dropped from plain objects", () => {
    const input = doc({ extra: 1, calibration: { text: 1, image: 0.5, samples: 2, extra: 1 }, usage: { promptTokens: 3, completionTokens: 1, cost: 0.1, extra: 1 } }, [
      { ...user(), extra: 1, content: [{ type: "text", text: "hi", extra: 1 }] },
      { ...reply(), extra: 1, error: { name: "E", message: "m", extra: 1 }, resume: { url: "u", lastEventId: "3", extra: 1 } },
    ]);
    const parsed = parseConversationJSON(input);
    expect(parsed).not.toHaveProperty("extra");
    expect(parsed.calibration).toEqual({ text: 1, image: 0.5, samples: 2 });
    expect(parsed.usage).toEqual({ promptTokens: 3, completionTokens: 1, cost: 0.1 });
    expect(parsed.messages[0]).toEqual({ id: "u1", role: "user", createdAt: 1, content: [{ type: "text", text: "hi" }] });
    expect(parsed.messages[1]).not.toHaveProperty("extra");
    expect(parsed.messages[1]).toMatchObject({ error: { name: "E", message: "m" }, resume: { url: "u", lastEventId: "3" } });
    expect((parsed.messages[1] as { error: object }).error).not.toHaveProperty("extra");
    expect((parsed.messages[1] as { resume: object }).resume).not.toHaveProperty("extra");
  });

  it("usage and tool calls as loose objects: unknown keys kept, a call's result as it is, prototype keys dropped", () => {
    const result = JSON.parse('{"__proto__": {"polluted": true}, "deep": [1, {"a": null}]}');
    const usage = JSON.parse('{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, "cached_tokens": 2, "__proto__": {"polluted": true}}');
    const call = JSON.parse('{"id": "c1", "name": "n", "arguments": "{}", "state": "approval", "note": "x", "__proto__": {"polluted": true}}');
    const parsed = parseConversationJSON(withReply({ usage, toolCalls: [{ ...reply().toolCalls[0], result }, call] }));
    const message = parsed.messages[1] as { usage: object; toolCalls: object[] };
    expect(message.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, cached_tokens: 2 });
    expect(Object.hasOwn(message.usage, "__proto__")).toBe(false);
    expect(message.toolCalls[0]).toEqual({ id: "c1", name: "get_weather", arguments: "{}", state: "done", result });
    expect((message.toolCalls[0] as { result: unknown }).result).toBe(result);
    expect(message.toolCalls[1]).toEqual({ id: "c1", name: "n", arguments: "{}", state: "approval", note: "x" });
    expect(Object.getPrototypeOf(message.toolCalls[1])).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("an image as bytes, or failing that as a URL", () => {
    const url = "https://example.com/a.png";
    const [bytes, link, fallback] = (
      parseConversationJSON(
        withUser({
          content: [
            { type: "image", data: "QQ==", mimeType: "image/png", url },
            { type: "image", url, height: 2 },
            { type: "image", data: "@@", mimeType: "image/png", url },
          ],
        }),
      ).messages[0] as { content: readonly unknown[] }
    ).content;
    expect(bytes).toEqual({ type: "image", data: new Uint8Array([65]), mimeType: "image/png" });
    expect(link).toEqual({ type: "image", url, height: 2 });
    expect(fallback).toEqual({ type: "image", url });
  });

  it("version 1 as a list, and a reply saved while streaming as interrupted, without its resume point", () => {
    const streaming = { ...without(reply(), "parentId"), status: "streaming", resume: { url: "u", lastEventId: "3" } };
    const parsed = parseConversationJSON(doc({ version: 1 }, [user(), streaming]));
    expect(parsed.messages[1]).toMatchObject({ parentId: "u1", status: "interrupted" });
    expect(parsed.messages[1]).not.toHaveProperty("resume");
  });
});
