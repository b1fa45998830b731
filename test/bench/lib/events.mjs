// A synthetic DeepInfra-shaped chat stream and the ways of cutting it into chunks.
// Deterministic: one seeded generator, so every part and every run sees the same bytes.

export const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";

/** xorshift32: a fast seeded generator in [0, 1). */
export function random(seed = 0x9e3779b9) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

// Content deltas as a model streams them: mostly short English tokens, some accented Latin, CJK (3 bytes in UTF-8),
// emoji (4 bytes, a surrogate pair in UTF-16), punctuation that JSON escapes.
const TOKENS = [
  " the", " model", " answer", " is", " a", " picture", " of", " cat", ",", ".", " on", " table", " with", "\n\n", " and",
  " café", " naïve", " über", " façade", "日本", "語", "の", "写真", "猫", " 👍", " 🐈", "—", " \"quoted\"", " 50%", " tab\t",
];

export function chunk(delta, extra = {}) {
  const out = {
    id: "chatcmpl-4f1c2d9e8b7a",
    object: "chat.completion.chunk",
    created: 1764028800,
    model: MODEL,
    choices: [{ index: 0, delta, finish_reason: extra.finish_reason ?? null, logprobs: null }],
  };
  if (extra.usage !== undefined) out.usage = extra.usage;
  return out;
}

/**
 * The data payloads of a reply of `count` content events, as DeepInfra sends it: a role event first, the content
 * events, a last event with finish_reason and usage (then `[DONE]`, added by `encodeEvents`). `text` is what a
 * client must reassemble.
 */
export function replyPayloads(count, seed = 1) {
  const rnd = random(seed);
  const payloads = [JSON.stringify(chunk({ role: "assistant", content: "" }))];
  const parts = [];
  for (let i = 0; i < count; i++) {
    const token = TOKENS[Math.floor(rnd() * TOKENS.length)];
    parts.push(token);
    payloads.push(JSON.stringify(chunk({ content: token })));
  }
  const usage = { prompt_tokens: 12, completion_tokens: count, total_tokens: 12 + count, estimated_cost: 0.0000042 };
  payloads.push(JSON.stringify(chunk({ role: "assistant", content: "" }, { finish_reason: "stop", usage })));
  return { payloads, text: parts.join(""), contentEvents: count };
}

/** `data: …\n\n` per payload, then `data: [DONE]\n\n`, as one array of event strings. */
export function sseEvents(payloads) {
  const events = payloads.map((p) => `data: ${p}\n\n`);
  events.push("data: [DONE]\n\n");
  return events;
}

const encoder = new TextEncoder();

/** The whole stream's bytes and each event's byte offset (for one-event-per-chunk cuts). */
export function encodeEvents(events) {
  const sizes = events.map((e) => encoder.encode(e).length);
  const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const bounds = [0];
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    encoder.encodeInto(events[i], bytes.subarray(at));
    at += sizes[i];
    bounds.push(at);
  }
  return { bytes, bounds };
}

/** Fixed-size chunks (views into `bytes`, no copies). */
export function fixedChunks(bytes, size) {
  const out = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
  return out;
}

/** One chunk per event. */
export function eventChunks(bytes, bounds) {
  const out = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push(bytes.subarray(bounds[i], bounds[i + 1]));
  return out;
}

/**
 * Random cuts: sizes log-uniform in [1 B, 64 KiB] (a fifth of the chunks under 10 bytes, some over 32 KiB), so cuts
 * land inside lines, inside "data:", between CR/LF pairs... and, by construction of the content, inside multi-byte
 * characters: after a cut whose next byte is ASCII, a coin flip moves it into the next multi-byte character nearby.
 * Returns the chunks and how many cuts fell inside a multi-byte character.
 */
export function randomChunks(bytes, seed = 7) {
  const rnd = random(seed);
  const out = [];
  let insideChar = 0;
  let at = 0;
  while (at < bytes.length) {
    let end = Math.min(bytes.length, at + Math.max(1, Math.floor(Math.exp(rnd() * Math.log(65536)))));
    if (end < bytes.length && rnd() < 0.5) {
      // Nudge into the next multi-byte sequence within 256 bytes: cut after its lead byte.
      for (let k = end; k < Math.min(bytes.length - 1, end + 256); k++) {
        if (bytes[k] >= 0xc0) {
          end = k + 1 + Math.floor(rnd() * (bytes[k] >= 0xf0 ? 3 : bytes[k] >= 0xe0 ? 2 : 1));
          break;
        }
      }
    }
    if (end < bytes.length && (bytes[end] & 0xc0) === 0x80) insideChar++;
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return { chunks: out, insideChar };
}

/** A fresh ReadableStream over prepared chunks: one chunk per pull, as a network body delivers them. */
export function streamOf(chunks) {
  let i = 0;
  return new ReadableStream(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
