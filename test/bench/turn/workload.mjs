// The turn workload, shared by Node and the Chromium page (no Node APIs here): time from `conversation.send()` to
// the request leaving, for several contenders (a build × a store) interleaved send by send.
//
// "The request leaving" is the moment the SDK calls `fetch`: each contender's client gets a `fetch` (createClient's
// option) that notes the time, then calls the platform's fetch. Everything before that moment is the SDK's (the
// lock, the store reads and writes, fitting, serializing the body); everything after it is the platform's network
// stack, the same code for every build. In Node the caller can also pass `arrival()`, the time the local server
// last received request headers (same clock), as a check that the platform's share is the same for every contender.
//
// Each contender: a conversation of `history` earlier turns (sent through the same path, untimed: they also warm
// the JIT), then `sends` timed sends. A send is timed from `send()` to the fetch call; the reply is awaited, then
// `flush()` (nothing pending: both builds' writes have landed), then `gapMs` of idle, as a user reads the reply and
// types the next message. Contenders take turns send by send, in an order that rotates every round.
//
// The contender's store (if any) is instrumented in place: every call records its start and end (the end from a
// reaction on the promise the store returned, which is the one the caller awaits: nothing is added to the SDK's
// chain), and `lockConversation` records when `fn` is called (the lock granted). A send's calls, up to the fetch,
// are its breakdown.

export const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const WORDS = "the a picture of cat on table with model answer context window token stream request reply image what is in this why how could you".split(" ");

/** The user message of send i: chat-sized (about 200 characters), different every time. */
export function userText(i) {
  let s = `Question ${i}:`;
  for (let k = 0; s.length < 200; k++) s += ` ${WORDS[(i * 7 + k * 13 + ((k * k) % 5)) % WORDS.length]}`;
  return `${s}?`;
}

const STORE_METHODS = ["lockConversation", "get", "loadMessages", "appendMessage", "updateMessage", "removeMessages", "setCalibration", "interruptStale"];

function instrument(store, state, now) {
  for (const method of STORE_METHODS) {
    const original = store[method];
    if (typeof original !== "function") continue;
    store[method] =
      method === "lockConversation"
        ? (id, fn, ...rest) => {
            const call = state.record("lock");
            return original.call(
              store,
              id,
              () => {
                if (call) call.end = now();
                return fn();
              },
              ...rest,
            );
          }
        : (...args) => {
            const call = state.record(method);
            const result = original.apply(store, args);
            if (call) {
              const end = () => (call.end = now());
              Promise.resolve(result).then(end, end);
            }
            return result;
          };
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, p95: percentile(s, 0.95), min: s[0], max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}

/** Total length of the union of [start, end] intervals. */
function unionLength(intervals) {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [lo, hi] = [-Infinity, -Infinity];
  for (const [a, b] of sorted) {
    if (a > hi) {
      if (hi > lo) total += hi - lo;
      [lo, hi] = [a, b];
    } else hi = Math.max(hi, b);
  }
  if (hi > lo) total += hi - lo;
  return total;
}

/**
 * contenders: [{ name, build: { Conversation, createClient }, makeStore?: () => store | Promise<store> }]
 * Returns name → { samples (ms), total: summary, arrival?: summary (fetch call → server got headers),
 * breakdown: { [phase]: summary } } and each store's close() is left to the caller (returned as `stores`).
 */
export async function runTurns(contenders, { origin, history = 20, sends = 60, gapMs = 5, now = () => performance.now(), arrival, beforeRound, expectedText }) {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const runs = [];
  for (const contender of contenders) {
    const state = {
      pending: undefined,
      record(method) {
        const p = state.pending;
        if (!p || p.fetchAt !== undefined) return undefined;
        const call = { method, start: now(), end: undefined };
        p.calls.push(call);
        return call;
      },
    };
    const stampedFetch = (input, init) => {
      const p = state.pending;
      if (p && p.fetchAt === undefined) p.fetchAt = now();
      return fetch(input, init);
    };
    const { Conversation, createClient } = contender.build;
    const client = createClient({ baseURL: `${origin}/v1`, fetch: stampedFetch, maxRetries: 0 }); // no apiKey: the local server plays the proxy that holds it (a key is refused in a browser)
    const store = contender.makeStore ? await contender.makeStore() : undefined;
    if (store) instrument(store, state, now);
    const conversation = store ? await Conversation.create(store, { client, model: MODEL, title: "turn bench" }) : new Conversation({ client, model: MODEL });
    runs.push({ contender, state, store, conversation, samples: [], arrivals: [], phases: new Map(), sent: 0 });
  }

  const sendOne = async (run, timed) => {
    const { state, conversation } = run;
    const pending = (state.pending = { calls: [], fetchAt: undefined });
    const t0 = now();
    const reply = conversation.send(userText(run.sent++));
    const message = await reply.done;
    await conversation.flush();
    state.pending = undefined;
    if (pending.fetchAt === undefined) throw new Error(`${run.contender.name}: the reply came without a fetch`);
    if (message.status !== "complete" || (expectedText !== undefined && message.content !== expectedText)) {
      throw new Error(`${run.contender.name}: reply ${message.status}, ${message.content.length} characters`);
    }
    if (!timed) return;
    const total = pending.fetchAt - t0;
    run.samples.push(total);
    if (arrival) run.arrivals.push(arrival() - pending.fetchAt);
    const phase = (name, ms) => {
      if (!run.phases.has(name)) run.phases.set(name, []);
      run.phases.get(name)[run.samples.length - 1] = ms;
    };
    // Calls made before the fetch, cut at the fetch (none should be running then: the SDK awaits them).
    const intervals = [];
    const byMethod = new Map();
    for (const call of pending.calls) {
      const end = Math.min(call.end ?? pending.fetchAt, pending.fetchAt);
      intervals.push([call.start, end]);
      byMethod.set(call.method, (byMethod.get(call.method) ?? 0) + (end - call.start));
    }
    for (const [method, ms] of byMethod) phase(method, ms);
    phase("calls", pending.calls.length);
    phase("rest", total - unionLength(intervals));
  };

  for (let round = 0; round < history; round++) for (const run of runs) await sendOne(run, false);
  for (let round = 0; round < sends; round++) {
    beforeRound?.();
    for (let k = 0; k < runs.length; k++) {
      await sendOne(runs[(round + k) % runs.length], true);
      await sleep(gapMs);
    }
  }

  const out = {};
  for (const run of runs) {
    const breakdown = {};
    for (const [name, values] of run.phases) {
      // A method not called in some send counts 0 there.
      const all = Array.from({ length: run.samples.length }, (_, i) => values[i] ?? 0);
      breakdown[name] = summary(all);
    }
    out[run.contender.name] = {
      samples: run.samples,
      total: summary(run.samples),
      ...(arrival && { arrival: summary(run.arrivals) }),
      breakdown,
      messages: run.conversation.messages.length,
    };
  }
  return { results: out, stores: runs.map((r) => r.store).filter(Boolean) };
}
