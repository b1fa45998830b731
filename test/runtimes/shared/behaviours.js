// @ts-self-types="./behaviours.d.ts"
// What the packed package must do in every runtime, written once. Each runtime suite loads the BUILT,
// PACKED `edgechat` its own way, starts (or reaches) the shared upstream (upstream.js), and runs these:
//   Node (test/runtimes/node), Chromium (a page: chromium/page.js), Deno (deno/behaviours.test.ts),
//   workerd (inside a Worker: workers/worker.js).
// A behaviour gets `t` = { sdk, sse, sdkCopy, base, runtime, assert } and throws to fail.

import { COST, MODEL, SSE_SAMPLE_EVENTS } from "./upstream.js";

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
