// @ts-self-types="./behaviours.d.ts"
// What the packed package must do in every runtime, written once. Each runtime suite loads the BUILT,
// PACKED `edgechat` its own way, starts (or reaches) the shared upstream (upstream.js), and runs these:
//   Node (test/runtimes/node), Chromium (a page: chromium/page.js), Deno (deno/behaviours.test.ts),
//   workerd (inside a Worker: workers/worker.js).
// A behaviour gets `t` = { sdk, sse, tools, structured, v, sdkCopy, base, runtime, assert } and throws to fail.

import { COST, JSON_VALUE, MODEL, SSE_SAMPLE_EVENTS, TOOL_CALL, toolAnswer } from "./upstream.js";

const KEY = "di-test-key-4b1d";
const messages = [{ role: "user", content: "Hello" }];
let sequence = 0;

/** A fresh call id on the upstream for `scenario`, with helpers to drive and inspect it. */
function call(t, scenario) {
  const id = `${t.runtime}-${(sequence++).toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const baseURL = `${t.base}/s/${scenario}/${id}/v1/openai`;
  const get = (route, init) => fetch(`${t.base}/${route}/${id}`, init).then((r) => r.json());
  return {
    id,
    baseURL,
    client: (options = {}) => t.sdk.createClient({ baseURL, apiKey: KEY, dangerouslyAllowBrowser: true, maxRetries: 0, ...options }),
    /** Let a held stream (lockstep, drop) send the rest. */
    release: () => get("release", { method: "POST" }),
    state: () => get("state"),
    /** True once the upstream has seen the client close the stream (waits for it, up to 5 s). */
    closed: () => get("closed").then((r) => r.closed),
  };
}

const texts = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? "").filter(Boolean);

/**
 * The runtime this code is running in, told by its own globals (not by `t.runtime`, which the suite says): a tool's
 * `execute` reports it, proving the tool ran where the Conversation runs.
 */
function where() {
  const g = globalThis;
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workers";
  if (typeof g.document?.createElement === "function" && /Chrome\//.test(g.navigator?.userAgent ?? "")) return "chromium";
  if (typeof g.process?.versions?.node === "string") return "node";
  return "unknown";
}

/** The schema of the `json` scenarios' value, and its JSON Schema as edgechat sends it. */
const weatherSchema = (v) => v.object({ city: v.string(), temperature: v.number() });
const WEATHER_JSON_SCHEMA = { type: "object", properties: { city: { type: "string" }, temperature: { type: "number" } }, required: ["city", "temperature"] };

/** @type {import("./behaviours.d.ts").Behaviour[]} */
export const behaviours = [
  {
    name: "non-streaming create() resolves a ChatCompletion with usage.estimated_cost",
    async run(t) {
      const { assert } = t;
      const c = call(t, "complete");
      const completion = await c.client().chat.completions.create({ model: MODEL, messages });
      assert.equal(completion.choices[0].message.content, "Bonjour !");
      assert.equal(completion.choices[0].finish_reason, "stop");
      assert.equal(completion.usage.estimated_cost, COST, "usage.estimated_cost");
      assert.equal(completion.usage.total_tokens, 15);
      const { requests } = await c.state();
      assert.equal(requests.length, 1, "requests sent");
      const [request] = requests;
      assert.equal(request.method, "POST");
      assert.equal(request.headers.authorization, `Bearer ${KEY}`);
      assert.equal(request.headers["content-type"], "application/json");
      assert.equal(request.headers.accept, "application/json");
      assert.deepEqual(request.body, { model: MODEL, messages });
    },
  },
  {
    name: "streaming: for await yields typed chunks, then finalChatCompletion() has the whole reply",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "stream");
      const stream = c.client().chat.completions.create({ model: MODEL, messages, stream: true });
      assert.equal(sdk.ChatStream, undefined, "ChatStream is a type only: its constructor is the SDK's");
      assert.equal(typeof stream[Symbol.asyncIterator], "function");
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.deepEqual(texts(chunks), ["Hel", "lo", " world"]);
      assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].message.content, "Hello world");
      assert.equal(final.choices[0].finish_reason, "stop");
      assert.equal(final.usage.estimated_cost, COST, "streamed usage.estimated_cost");
      const response = await stream.response;
      assert.ok(response.headers.get("content-type").startsWith("text/event-stream"), "content-type");
      const [request] = (await c.state()).requests;
      assert.equal(request.headers.accept, "text/event-stream");
      assert.equal(request.body.stream, true);
    },
  },
  {
    name: "streaming: textStream yields the text deltas; currentText has what was received",
    async run(t) {
      const { assert } = t;
      const stream = call(t, "stream").client().chat.completions.create({ model: MODEL, messages, stream: true });
      const seen = [];
      for await (const text of stream.textStream) {
        seen.push(text);
        assert.ok(stream.currentText.startsWith(seen.join("")), `currentText ${JSON.stringify(stream.currentText)} holds what was yielded`);
      }
      assert.deepEqual(seen, ["Hel", "lo", " world"]);
      assert.equal(stream.currentText, "Hello world");
      assert.equal((await stream.finalChatCompletion()).choices[0].message.content, "Hello world");
    },
  },
  {
    name: "streaming: finalChatCompletion() alone consumes the stream",
    async run(t) {
      const { assert } = t;
      const stream = call(t, "stream").client().chat.completions.create({ model: MODEL, messages, stream: true });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].message.content, "Hello world");
      assert.equal(final.usage.completion_tokens, 3);
    },
  },
  {
    name: "streaming is incremental: event 2 is sent only after the client has seen event 1 (lockstep)",
    async run(t) {
      const { assert } = t;
      const c = call(t, "lockstep");
      const stream = c.client().chat.completions.create({ model: MODEL, messages, stream: true });
      const seen = [];
      for await (const text of stream.textStream) {
        seen.push(text);
        if (seen.length === 1) await c.release();
      }
      // A fetch or SDK that buffers the body sees nothing until the upstream gives up and sends "TIMEOUT".
      assert.deepEqual(seen, ["Hel", "lo", " world"], "deltas (TIMEOUT means the body was buffered)");
    },
  },
  {
    name: "stream.abort() mid-stream ends iteration with UserAbortError and closes the upstream connection",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "hold");
      const stream = c.client().chat.completions.create({ model: MODEL, messages, stream: true });
      const seen = [];
      await assert.rejects(async () => {
        for await (const text of stream.textStream) {
          seen.push(text);
          stream.abort();
        }
      }, sdk.UserAbortError);
      assert.deepEqual(seen, ["Hel"]);
      assert.equal(stream.currentText, "Hel");
      assert.equal(await c.closed(), true, "upstream saw the connection close");
      await assert.rejects(stream.finalChatCompletion(), sdk.UserAbortError, "finalChatCompletion()");
    },
  },
  {
    name: "an AbortSignal aborts mid-stream and closes the upstream connection",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "hold");
      const controller = new AbortController();
      const stream = c.client().chat.completions.create({ model: MODEL, messages, stream: true }, { signal: controller.signal });
      const seen = [];
      const error = await assert.rejects(async () => {
        for await (const text of stream.textStream) {
          seen.push(text);
          controller.abort("user left");
        }
      }, sdk.UserAbortError);
      assert.equal(error.cause, "user left", "the abort reason is the cause");
      assert.deepEqual(seen, ["Hel"]);
      assert.equal(await c.closed(), true, "upstream saw the connection close");
    },
  },
  {
    name: "breaking out of for await cancels the request and closes the upstream connection",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "hold");
      const stream = c.client().chat.completions.create({ model: MODEL, messages, stream: true });
      for await (const text of stream.textStream) {
        assert.equal(text, "Hel");
        break;
      }
      assert.equal(await c.closed(), true, "upstream saw the connection close");
      await assert.rejects(stream.finalChatCompletion(), sdk.UserAbortError, "finalChatCompletion()");
    },
  },
  {
    name: "429 → RateLimitError after the retries, honouring retry-after-ms",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "rate-limit");
      const retries = [];
      const client = c.client({ maxRetries: 2, onRetry: (info) => retries.push(info) });
      const error = await assert.rejects(client.chat.completions.create({ model: MODEL, messages }), sdk.RateLimitError);
      assert.equal(error.status, 429);
      assert.equal(error.retryable, true);
      assert.equal(error.requestID, "req-429");
      assert.equal(error.headers.get("retry-after-ms"), "1");
      assert.deepEqual(error.body, { detail: "Rate limited" });
      assert.deepEqual(
        retries.map((r) => [r.attempt, r.delayMs, r.error.name]),
        [
          [1, 1, "RateLimitError"],
          [2, 1, "RateLimitError"],
        ],
      );
      assert.equal((await c.state()).requests.length, 3, "requests sent");
    },
  },
  {
    name: "422 → UnprocessableEntityError with FastAPI's detail list, not retried",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "unprocessable");
      const error = await assert.rejects(c.client({ maxRetries: 2 }).chat.completions.create({ model: MODEL, messages }), sdk.UnprocessableEntityError);
      assert.equal(error.status, 422);
      assert.equal(error.retryable, false);
      assert.deepEqual(error.details, [
        { loc: ["body", "messages", 0, "content"], msg: "field required", type: "value_error.missing" },
        { loc: ["body", "temperature"], msg: "ensure this value is less than or equal to 2", type: "value_error" },
      ]);
      assert.ok(error.message.includes("body.messages.0.content: field required"), `message: ${error.message}`);
      assert.equal((await c.state()).requests.length, 1, "requests sent");
    },
  },
  {
    name: "DeepInfra's context-length 500 → ContextLengthError with limit and requested, not retried",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "context-length");
      const error = await assert.rejects(c.client({ maxRetries: 2 }).chat.completions.create({ model: MODEL, messages }), sdk.ContextLengthError);
      assert.equal(error.status, 500);
      assert.equal(error.limit, 8192);
      assert.equal(error.requested, 99009);
      assert.equal(error.retryable, false);
      assert.equal((await c.state()).requests.length, 1, "requests sent");
    },
  },
  {
    name: "a 503 is retried, then the stream succeeds",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "flaky");
      const retries = [];
      const stream = c.client({ maxRetries: 2, onRetry: (info) => retries.push(info) }).chat.completions.create({ model: MODEL, messages, stream: true });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].message.content, "Hello world");
      assert.equal(retries.length, 1, "retries");
      assert.instanceOf(retries[0].error, sdk.InternalServerError);
      assert.equal(retries[0].error.status, 503);
      assert.equal(retries[0].delayMs, 1);
      assert.equal((await c.state()).requests.length, 2, "requests sent");
    },
  },
  {
    name: "a connection dropped mid-stream → StreamInterruptedError, keeping the partial text",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "drop");
      const stream = c.client({ maxRetries: 2 }).chat.completions.create({ model: MODEL, messages, stream: true });
      const seen = [];
      await assert.rejects(async () => {
        for await (const text of stream.textStream) {
          seen.push(text);
          await c.release(); // the upstream drops the connection now
        }
      }, sdk.StreamInterruptedError);
      assert.deepEqual(seen, ["Hel"]);
      assert.equal(stream.currentText, "Hel");
      assert.equal((await c.state()).requests.length, 1, "a started stream is never retried");
    },
  },
  {
    name: "idleTimeout → TimeoutError (phase idle), keep-alive comments do not reset it, the connection is closed",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "hold");
      const stream = c.client({ idleTimeout: 300 }).chat.completions.create({ model: MODEL, messages, stream: true });
      const seen = [];
      const error = await assert.rejects(async () => {
        for await (const text of stream.textStream) seen.push(text);
      }, sdk.TimeoutError);
      assert.equal(error.phase, "idle");
      assert.equal(error.timeoutMs, 300);
      assert.deepEqual(seen, ["Hel"]);
      assert.equal(await c.closed(), true, "upstream saw the connection close");
    },
  },
  {
    name: "errors form one hierarchy: instanceof and name hold across the classes",
    async run(t) {
      const { assert, sdk } = t;
      const nonStreaming = (scenario, options = {}) =>
        call(t, scenario)
          .client()
          .chat.completions.create({ model: MODEL, messages }, options)
          .catch((e) => e);
      const streaming = (scenario, options = {}) =>
        call(t, scenario)
          .client()
          .chat.completions.create({ model: MODEL, messages, stream: true }, options)
          .finalChatCompletion()
          .catch((e) => e);
      const errors = {
        RateLimitError: await nonStreaming("rate-limit"),
        UnprocessableEntityError: await nonStreaming("unprocessable"),
        ContextLengthError: await nonStreaming("context-length"),
        InternalServerError: await nonStreaming("flaky"),
        NotFoundError: await nonStreaming("no-such-scenario"),
        UserAbortError: await nonStreaming("complete", { signal: AbortSignal.abort() }),
        TimeoutError: await streaming("hold", { idleTimeout: 100 }),
        StreamInterruptedError: await streaming("cut"),
      };
      const api = ["RateLimitError", "UnprocessableEntityError", "ContextLengthError", "InternalServerError", "NotFoundError"];
      for (const [name, error] of Object.entries(errors)) {
        assert.instanceOf(error, sdk[name], name);
        assert.equal(error.name, name, "name");
        assert.instanceOf(error, sdk.EdgeChatError, name);
        assert.instanceOf(error, Error, name);
        assert.ok(sdk.isEdgeChatError(error), `isEdgeChatError(${name})`);
        assert.equal(error instanceof sdk.APIError, api.includes(name), `${name} instanceof APIError`);
        for (const other of Object.keys(errors)) {
          if (other !== name) assert.ok(!(error instanceof sdk[other]), `${name} is not a ${other}`);
        }
      }
      assert.ok(!(new Error("x") instanceof sdk.EdgeChatError), "a plain Error is not an EdgeChatError");
      assert.ok(!sdk.isEdgeChatError({ name: "RateLimitError" }), "a look-alike object is not an EdgeChatError");
      assert.equal(errors.ContextLengthError.status, 500, "a context-length 500 is not an InternalServerError");
    },
  },
  {
    name: "instanceof works across two copies of the package",
    async run(t) {
      const { assert, sdk, sdkCopy } = t;
      assert.ok(sdkCopy && sdkCopy.RateLimitError !== sdk.RateLimitError, "the runtime gave a second, distinct copy");
      const error = await call(t, "rate-limit")
        .client()
        .chat.completions.create({ model: MODEL, messages })
        .catch((e) => e);
      const fromCopy = await sdkCopy
        .createClient({ baseURL: call(t, "rate-limit").baseURL, maxRetries: 0 })
        .chat.completions.create({ model: MODEL, messages })
        .catch((e) => e);
      for (const e of [error, fromCopy]) {
        for (const copy of [sdk, sdkCopy]) {
          assert.instanceOf(e, copy.RateLimitError);
          assert.instanceOf(e, copy.APIError);
          assert.instanceOf(e, copy.EdgeChatError);
          assert.ok(!(e instanceof copy.InternalServerError), "not an InternalServerError");
        }
      }
    },
  },
  {
    name: "edgechat/sse: parseSSE and SSEParserStream read a real response body cut at awkward byte boundaries",
    async run(t) {
      const { assert, sse } = t;
      const plain = (e) => ({ event: e.event, data: e.data, id: e.id, retry: e.retry ?? null });
      const comments = [];
      const retries = [];
      const events = [];
      const response = await fetch(`${t.base}/sse-sample`);
      for await (const event of sse.parseSSE(response.body, { onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms) })) {
        events.push(plain(event));
      }
      assert.deepEqual(events, SSE_SAMPLE_EVENTS, "parseSSE");
      assert.deepEqual(comments, ["keep-alive comment"], "comments");
      assert.deepEqual(retries, [1500], "retry fields");

      const piped = [];
      const reader = (await fetch(`${t.base}/sse-sample`)).body.pipeThrough(new sse.SSEParserStream()).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) piped.push(plain(r.value));
      assert.deepEqual(piped, SSE_SAMPLE_EVENTS, "SSEParserStream");
    },
  },
  {
    name: "toSSEStream() re-encodes the stream as SSE that parseSSE reads back",
    async run(t) {
      const { assert, sdk, sse } = t;
      const stream = call(t, "stream").client().chat.completions.create({ model: MODEL, messages, stream: true });
      const data = [];
      for await (const event of sse.parseSSE(sdk.toSSEStream(stream))) data.push(event.data);
      assert.equal(data.at(-1), "[DONE]");
      assert.deepEqual(texts(data.slice(0, -1).map((d) => JSON.parse(d))), ["Hel", "lo", " world"]);
    },
  },
  {
    name: "cancelling toSSEStream() mid-stream aborts the request at once, even while the upstream sends only keep-alives",
    async run(t) {
      const { assert, sdk } = t;
      const c = call(t, "hold");
      const stream = c.client().chat.completions.create({ model: MODEL, messages, stream: true });
      try {
        const reader = sdk.toSSEStream(stream).getReader();
        const decoder = new TextDecoder();
        let received = "";
        while (!received.includes('"Hel"')) received += decoder.decode((await reader.read()).value);
        // A relay always has a read in flight when its client leaves: let this one reach the SDK (pull runs in
        // microtasks, so one macrotask turn later the SDK is waiting on the upstream), then cancel.
        const pending = reader.read();
        await new Promise((resolve) => setTimeout(resolve, 0));
        void reader.cancel("the client went away").catch(() => {});
        assert.deepEqual(await pending, { done: true, value: undefined }, "the pending read");
        assert.equal(await c.closed(), true, "upstream saw the connection close");
      } finally {
        stream.abort(); // do not leave the request running if the cancel did not stop it
      }
    },
  },
  {
    name: "edgechat/tools: a Conversation runs a tool where it runs, sends the call and its result back, and streams the answer",
    async run(t) {
      const { assert, sdk, tools, v } = t;
      const c = call(t, "tools");
      const ran = [];
      const add = tools.tool({
        description: "Adds two numbers",
        parameters: v.object({ a: v.number(), b: v.number() }),
        execute: ({ a, b }, { callId }) => {
          ran.push({ a, b, callId, where: where() });
          return { sum: a + b, ranIn: where() };
        },
      });
      const chat = new sdk.Conversation({ client: c.client(), model: MODEL, tools: tools.toolset({ add }) });
      const reply = chat.send("What is 2 + 3?");
      let streamed = "";
      for await (const delta of reply) streamed += delta;
      const final = await reply.done;

      const result = { sum: 5, ranIn: t.runtime };
      assert.deepEqual(ran, [{ a: 2, b: 3, callId: TOOL_CALL.id, where: t.runtime }], "execute ran once, in this runtime, with the checked arguments");
      const answer = toolAnswer(JSON.stringify(result));
      assert.equal(final.content, answer, "the final text quotes the tool's result");
      assert.equal(final.status, "complete");
      assert.equal(streamed, answer, "the reply's deltas");
      const [user, step, last] = chat.messages;
      assert.equal(user.role, "user");
      assert.equal(last, final, "the answer is the last message");
      assert.equal(step.finishReason, "tool_calls");
      assert.deepEqual(step.toolCalls, [{ ...TOOL_CALL, state: "done", result }], "the call is stored with its result");
      assert.equal(step.toolCalls[0].state, "done");

      const { requests } = await c.state();
      assert.equal(requests.length, 2, "requests sent: the call, then the answer");
      const parameters = { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] };
      assert.deepEqual(requests[0].body.tools, [{ type: "function", function: { name: "add", description: "Adds two numbers", parameters } }], "tools, with valibot's schema as JSON Schema");
      assert.deepEqual(
        requests[1].body.messages,
        [
          { role: "user", content: "What is 2 + 3?" },
          { role: "assistant", content: null, tool_calls: [{ id: TOOL_CALL.id, type: "function", function: { name: TOOL_CALL.name, arguments: TOOL_CALL.arguments } }] },
          { role: "tool", tool_call_id: TOOL_CALL.id, content: JSON.stringify(result) },
        ],
        "the second request carries the assistant's tool_calls and the tool's result",
      );
    },
  },
  {
    name: "edgechat/structured: streamObject yields partial values as the JSON streams in, then the value validated by the schema",
    async run(t) {
      const { assert, structured, v } = t;
      const c = call(t, "json");
      const stream = structured.streamObject(c.client(), { model: MODEL, messages, schema: weatherSchema(v) });
      // A partial is live (completed in place): keep each as JSON text.
      const partials = [];
      for await (const partial of stream) partials.push(JSON.stringify(partial));
      assert.deepEqual(await stream.value, JSON_VALUE, "value");
      assert.equal(stream.text, JSON.stringify(JSON_VALUE), "text");
      assert.equal((await stream.completion).usage.estimated_cost, COST, "completion");

      const seen = partials.map((p) => JSON.parse(p));
      assert.ok(seen.length >= 4, `partial values arrived one delta after another (got ${partials.join(" ")})`);
      assert.deepEqual(seen.at(-1), JSON_VALUE, "the last partial value is the whole value");
      assert.ok(
        seen.some((p) => typeof p.city === "string" && p.city !== JSON_VALUE.city && p.temperature === undefined),
        `a partial value with the city still arriving (got ${partials.join(" ")})`,
      );
      for (const p of seen) {
        const known = Object.keys(p).every((k) => k in JSON_VALUE);
        const city = p.city === undefined || JSON_VALUE.city.startsWith(p.city);
        assert.ok(known && city && [undefined, JSON_VALUE.temperature].includes(p.temperature), `${JSON.stringify(p)} could become the value`);
      }

      const { requests } = await c.state();
      assert.equal(requests.length, 1, "requests sent");
      assert.equal(requests[0].body.stream, true);
      assert.deepEqual(requests[0].body.response_format, { type: "json_schema", json_schema: { name: "response", schema: WEATHER_JSON_SCHEMA } }, "response_format");

      // Validated here, in this runtime: a value the schema refuses rejects `value` with an ObjectValidationError.
      const strict = v.object({ city: v.string(), temperature: v.pipe(v.number(), v.maxValue(20)) });
      const refused = structured.streamObject(call(t, "json").client(), { model: MODEL, messages, schema: strict });
      const error = await assert.rejects(refused.value, structured.ObjectValidationError, "a value the schema refuses");
      assert.ok(error.message.includes("temperature"), `the message names the path: ${error.message}`);
      assert.equal(error.text, JSON.stringify(JSON_VALUE), "the error holds the reply's text");
    },
  },
  {
    name: 'edgechat/structured: streamObject "auto" asks again with json_object when the server refuses json_schema',
    async run(t) {
      const { assert, structured, v } = t;
      const c = call(t, "json-refuses-schema");
      const stream = structured.streamObject(c.client(), { model: MODEL, messages, schema: weatherSchema(v) });
      assert.deepEqual(await stream.value, JSON_VALUE, "value");
      const { requests } = await c.state();
      assert.equal(requests.length, 2, "requests sent: json_schema (refused), then json_object");
      assert.equal(requests[0].body.response_format.type, "json_schema");
      assert.deepEqual(requests[1].body.response_format, { type: "json_object" });
      const [system, ...rest] = requests[1].body.messages;
      assert.equal(system.role, "system", "the schema is told in a system message");
      assert.ok(system.content.includes(JSON.stringify(WEATHER_JSON_SCHEMA)), `the system message holds the JSON Schema: ${system.content}`);
      assert.deepEqual(rest, messages);
    },
  },
  {
    name: "an apiKey is refused in a browser page (BrowserKeyError) and accepted elsewhere",
    async run(t) {
      const { assert, sdk } = t;
      const create = () => sdk.createClient({ apiKey: KEY, baseURL: `${t.base}/v1/openai` });
      if (t.runtime === "chromium") {
        const error = assert.throws(create, sdk.BrowserKeyError);
        assert.ok(!error.message.includes(KEY), "the message does not quote the key");
      } else {
        create();
      }
      sdk.createClient({ apiKey: KEY, dangerouslyAllowBrowser: true });
      sdk.createClient({ baseURL: `${t.base}/v1/openai` }); // a proxy with no key is fine everywhere
    },
  },
];

/** Run one behaviour by name; `{ ok: false, error }` carries what the runtime can serialise. */
export async function runBehaviour(name, t) {
  const behaviour = behaviours.find((b) => b.name === name);
  if (!behaviour) return { ok: false, error: { name: "Error", message: `no behaviour named ${JSON.stringify(name)}`, stack: "" } };
  try {
    await behaviour.run(t);
    return { ok: true };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    // An SDK error often wraps the runtime's own (e.g. "Illegal invocation" inside a ConnectionError).
    const cause = e.cause instanceof Error ? ` (cause: ${e.cause.name}: ${e.cause.message})` : "";
    return { ok: false, error: { name: e.name, message: `${e.message}${cause}`, stack: e.stack ?? "" } };
  }
}
