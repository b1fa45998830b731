// @ts-self-types="./upstream.d.ts"
// ONE DeepInfra-compatible upstream for every runtime suite: a web-standard `(request) => Promise<Response>`.
// Deno.serve uses it as is; Node (and the Chromium page server) through shared/node-server.ts.
//
// A call picks a scenario and a fresh id in its base URL, `${origin}/s/<scenario>/<id>/v1/openai`, so the
// SDK's POST to `${baseURL}/chat/completions` says what to answer, and calls never share state.
// Control routes, for the behaviours (or the test driving a Worker):
//   POST /release/<id>  open the lockstep gate: a held stream sends the rest of its reply
//   GET  /state/<id>    { requests: [{ method, headers, body }], closed, released }
//   GET  /closed/<id>   waits up to CLOSE_WAIT_MS for the client to close the stream of <id>: { closed }
//   GET  /sse-sample    a fixed event stream cut into 3-byte pieces (BOM, CRLF and UTF-8 characters split)
// Scenarios that read the request: `tools` (a call of the `add` tool, then an answer quoting the tool's result)
// and `json` / `json-refuses-schema` (structured output).

export const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
/** How long a held stream waits for the client (release or close) before giving up. */
export const HOLD_MS = 5000;
/** How long /closed waits for a client to close a stream: a working cancel takes milliseconds. */
export const CLOSE_WAIT_MS = 2000;
export const COST = 0.0000054;

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

// --- DeepInfra's wire format (the same shapes as test/helpers/upstream.ts) ---

const usage = (prompt, completion, cost = COST) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  estimated_cost: cost,
});

const chunk = (delta, extra = {}) => ({
  id: "chatcmpl-4f1c2d",
  object: "chat.completion.chunk",
  created: 1764028800,
  model: MODEL,
  choices: [{ index: 0, delta, finish_reason: extra.finish_reason ?? null, logprobs: null }],
  ...(extra.usage === undefined ? {} : { usage: extra.usage }),
});

const sse = (data) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
const role = () => sse(chunk({ role: "assistant", content: "" }));
const text = (content) => sse(chunk({ content }));
const finish = (completionTokens) => sse(chunk({ role: "assistant", content: "" }, { finish_reason: "stop", usage: usage(12, completionTokens) }));
const DONE = sse("[DONE]");
/** The last chunk of a reply that calls tools: DeepInfra sends `finish_reason: "tool_calls"` with the usage. */
const finishCalls = (completionTokens) => sse(chunk({}, { finish_reason: "tool_calls", usage: usage(40, completionTokens) }));

const completion = (content) => ({
  id: "chatcmpl-9a8b7c",
  object: "chat.completion",
  created: 1764028800,
  model: MODEL,
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null }],
  usage: usage(12, 3),
});

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

// --- per-call state ---

class Call {
  requests = [];
  closed = false;
  released = false;
  #waiters = new Set();

  release() {
    this.released = true;
    for (const w of [...this.#waiters]) w("released");
  }

  close() {
    this.closed = true;
    for (const w of [...this.#waiters]) w("closed");
  }

  /** Wait until released ("released"), the client closed the stream ("closed"), or `ms` passed ("timeout"). */
  until(ms, { release = true } = {}) {
    if (this.closed) return Promise.resolve("closed");
    if (release && this.released) return Promise.resolve("released");
    return new Promise((resolve) => {
      const waiter = (why) => {
        if (why === "released" && !release) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(why);
      };
      const timer = setTimeout(() => waiter("timeout"), ms);
      this.#waiters.add(waiter);
    });
  }
}

/** `text` in pieces of `size` characters: a JSON value cut inside its keys, strings and numbers. */
const pieces = (text, size) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

/** The `add` call the `tools` scenario makes, and the arguments it streams in fragments. */
export const TOOL_CALL = { id: "call_1", name: "add", arguments: '{"a":2,"b":3}' };
/** The value the `json` scenarios stream, for any `response_format` asking for JSON. */
export const JSON_VALUE = { city: "Paris", temperature: 21 };
/** What the `tools` scenario answers once the request ends with the tool's result (a `role: "tool"` message). */
export const toolAnswer = (result) => `The tool said ${result}.`;

/** An SSE response produced by an async generator of strings; the client closing the connection cancels it. */
function eventStream(call, produce) {
  const encoder = new TextEncoder();
  const events = produce();
  const body = new ReadableStream(
    {
      async pull(controller) {
        const { value, done } = await events.next(); // a throw errors the body: the connection drops mid-stream
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      },
      async cancel() {
        call.close();
        await events.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: SSE_HEADERS });
}

const scenarios = {
  complete: () => json(200, completion("Bonjour !"), { "x-request-id": "req-complete" }),

  stream: (call) =>
    eventStream(call, async function* () {
      yield role();
      for (const part of ["Hel", "lo", " world"]) yield text(part);
      yield finish(3);
      yield DONE;
    }),

  // Event 2 is held until the client says it has seen event 1. A client that buffers the body never
  // sees event 1 in time, so it gets "TIMEOUT" after HOLD_MS instead of " world": no timing assertion.
  lockstep: (call) =>
    eventStream(call, async function* () {
      yield role();
      yield text("Hel");
      const why = await call.until(HOLD_MS);
      if (why === "closed") return;
      yield text(why === "released" ? "lo" : "TIMEOUT");
      yield text(" world");
      yield finish(3);
      yield DONE;
    }),

  // A model that keeps generating: a token every 50 ms until the client goes away (or HOLD_MS).
  trickle: (call) =>
    eventStream(call, async function* () {
      yield role();
      yield text("Hel");
      for (let waited = 0; waited < HOLD_MS; waited += 50) {
        if ((await call.until(50, { release: false })) === "closed") return;
        yield text(".");
      }
    }),

  // A clean end of the body before finish_reason and [DONE]: a cut-off reply, not a short one.
  cut: (call) =>
    eventStream(call, async function* () {
      yield role();
      yield text("Hel");
    }),

  // One event, then only keep-alive comments until the client goes away (or HOLD_MS, then a cut-off end).
  hold: (call) =>
    eventStream(call, async function* () {
      yield role();
      yield text("Hel");
      for (let waited = 0; waited < HOLD_MS; waited += 50) {
        if ((await call.until(50, { release: false })) === "closed") return;
        yield ": keep-alive\n\n";
      }
    }),

  // One event and half of the next, then (once the client has seen the event) the connection drops.
  drop: (call) =>
    eventStream(call, async function* () {
      yield role();
      yield text("Hel");
      yield 'data: {"id":"chatcmpl-4f1c2d","obj';
      if ((await call.until(HOLD_MS)) === "closed") return;
      throw new Error("(expected) the upstream drops this connection mid-stream on purpose: the drop scenario");
    }),

  "rate-limit": () => json(429, { detail: "Rate limited" }, { "retry-after-ms": "1", "x-request-id": "req-429" }),

  unprocessable: () =>
    json(422, {
      detail: [
        { loc: ["body", "messages", 0, "content"], msg: "field required", type: "value_error.missing" },
        { loc: ["body", "temperature"], msg: "ensure this value is less than or equal to 2", type: "value_error" },
      ],
    }),

  "context-length": () => json(500, { error: { message: "Requested input length 99009 exceeds maximum input length 8192" } }),

  // A model with tools: a request ending with the user's message gets a call of `add`, DeepInfra-style (the id, type
  // and name first with empty arguments, then argument fragments, then finish_reason "tool_calls" with usage); one
  // ending with the tool's result (`role: "tool"`) gets a text answer quoting that result.
  tools: (call, body) => {
    const last = body?.messages?.at(-1);
    if (last?.role === "tool") {
      return eventStream(call, async function* () {
        yield role();
        for (const part of pieces(toolAnswer(last.content), 8)) yield text(part);
        yield finish(7);
        yield DONE;
      });
    }
    return eventStream(call, async function* () {
      yield role();
      const { id, name, arguments: args } = TOOL_CALL;
      yield sse(chunk({ tool_calls: [{ index: 0, id, type: "function", function: { name, arguments: "" } }] }));
      for (const part of pieces(args, 4)) yield sse(chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] }));
      yield finishCalls(9);
      yield DONE;
    });
  },

  // Structured output: the JSON value in 3-character deltas (or whole, not streaming), whatever JSON format is asked.
  json: (call, body) => {
    const value = JSON.stringify(JSON_VALUE);
    if (body?.stream !== true) return json(200, completion(value));
    return eventStream(call, async function* () {
      yield role();
      for (const part of pieces(value, 3)) yield text(part);
      yield finish(9);
      yield DONE;
    });
  },

  // A server that knows `json_object` only (DeepInfra documents `text` and `json_object`): json_schema is a 400.
  "json-refuses-schema": (call, body) => {
    if (body?.response_format?.type === "json_schema") return json(400, { detail: "response_format: unsupported type json_schema, use json_object" });
    return scenarios.json(call, body);
  },

  // 503 on the first request, then the normal reply (streamed or not, as asked).
  flaky: (call, body) => {
    if (call.requests.length === 1) return json(503, { detail: "Model is loading" }, { "retry-after-ms": "1" });
    return body?.stream === true ? scenarios.stream(call) : scenarios.complete();
  },
};

/** The event stream served at /sse-sample, and what parsing it must give. */
export const SSE_SAMPLE =
  "\uFEFFdata: first\r\n\r\n" +
  ": keep-alive comment\n\n" +
  "event: greeting\nid: 7\nretry: 1500\ndata: line one\ndata: line two\n\n" +
  "data: caf\u00e9 \u{1F600}\r\r" +
  "data: last\n\n";
export const SSE_SAMPLE_EVENTS = [
  { event: "message", data: "first", id: "", retry: null },
  { event: "greeting", data: "line one\nline two", id: "7", retry: 1500 },
  { event: "message", data: "caf\u00e9 \u{1F600}", id: "7", retry: null },
  { event: "message", data: "last", id: "7", retry: null },
];

function sseSample() {
  const bytes = new TextEncoder().encode(SSE_SAMPLE);
  let at = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 3));
      at += 3;
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

export function createUpstream() {
  const calls = new Map();
  const callOf = (id) => {
    let call = calls.get(id);
    if (!call) calls.set(id, (call = new Call()));
    return call;
  };

  async function handle(request) {
    const { pathname } = new URL(request.url);
    const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [route, a, b] = parts;

    if (route === "release" && a) {
      callOf(a).release();
      return json(200, { released: true });
    }
    if (route === "state" && a) {
      const { requests, closed, released } = callOf(a);
      return json(200, { requests, closed, released });
    }
    if (route === "closed" && a) {
      const call = callOf(a);
      await call.until(CLOSE_WAIT_MS, { release: false });
      return json(200, { closed: call.closed });
    }
    if (route === "sse-sample") return sseSample();

    if (route === "s" && a && b && parts.at(-2) === "chat" && parts.at(-1) === "completions") {
      const scenario = scenarios[a];
      if (!scenario) return json(404, { detail: `no scenario ${a}` });
      const call = callOf(b);
      const raw = await request.text();
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      call.requests.push({ method: request.method, headers: Object.fromEntries(request.headers), body });
      return scenario(call, body);
    }
    return json(404, { detail: "Not Found" });
  }

  return { handle };
}
