// A tiny random-weight Llama model for llama-server: the real Llama 3 tokenizer (every `tokenizer.*` key of
// llama.cpp's models/ggml-vocab-llama-bpe.gguf), Llama 3.2's chat template (models/templates/ in the same
// source), and 2 layers of 64 dims whose f32 weights come from a seeded generator. It says nothing useful,
// but the server tokenizes, templates, counts, streams, stops and overflows exactly as it would for Llama 3.2.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readGGUF, T, typed, writeGGUF } from "./gguf.mjs";

export const DIMS = { layers: 2, embd: 64, heads: 4, headsKV: 2, ff: 128, context: 8192, seed: 0x5eed };

/** Llama 3 Instruct ends a turn with <|eot_id|>; the vocabulary file names <|end_of_text|>. */
const EOT_ID = 128009;

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The tensors of a llama model, dims in ggml order (input dim first), uniform in ±1/√fan_in; norms are 1. */
function tensors(vocab, d = DIMS) {
  const next = random(d.seed);
  const matrix = (name, input, output) => {
    const data = new Float32Array(input * output);
    const scale = 1 / Math.sqrt(input);
    for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * scale;
    return { name, dims: [input, output], data };
  };
  const ones = (name) => ({ name, dims: [d.embd], data: new Float32Array(d.embd).fill(1) });
  const kv = (d.embd / d.heads) * d.headsKV;
  const list = [matrix("token_embd.weight", d.embd, vocab), ones("output_norm.weight"), matrix("output.weight", d.embd, vocab)];
  for (let i = 0; i < d.layers; i++) {
    list.push(
      ones(`blk.${i}.attn_norm.weight`),
      matrix(`blk.${i}.attn_q.weight`, d.embd, d.embd),
      matrix(`blk.${i}.attn_k.weight`, d.embd, kv),
      matrix(`blk.${i}.attn_v.weight`, d.embd, kv),
      matrix(`blk.${i}.attn_output.weight`, d.embd, d.embd),
      ones(`blk.${i}.ffn_norm.weight`),
      matrix(`blk.${i}.ffn_gate.weight`, d.embd, d.ff),
      matrix(`blk.${i}.ffn_up.weight`, d.embd, d.ff),
      matrix(`blk.${i}.ffn_down.weight`, d.ff, d.embd),
    );
  }
  return list;
}

/** The model's metadata: llama hyper-parameters, then the vocabulary file's tokenizer and the chat template. */
function metadata(vocabFile, template, d = DIMS) {
  const source = readGGUF(vocabFile).metadata;
  const tokens = source.get("tokenizer.ggml.tokens")?.value;
  if (!tokens) throw new Error(`${vocabFile} has no tokenizer.ggml.tokens`);
  const u32 = (v) => typed(T.u32, v);
  const f32 = (v) => typed(T.f32, v);
  const m = new Map([
    ["general.architecture", typed(T.string, "llama")],
    ["general.name", typed(T.string, "edgechat tiny random llama (Llama 3 tokenizer)")],
    ["general.file_type", u32(0)], // all f32
    ["llama.context_length", u32(d.context)],
    ["llama.embedding_length", u32(d.embd)],
    ["llama.block_count", u32(d.layers)],
    ["llama.feed_forward_length", u32(d.ff)],
    ["llama.attention.head_count", u32(d.heads)],
    ["llama.attention.head_count_kv", u32(d.headsKV)],
    ["llama.rope.dimension_count", u32(d.embd / d.heads)],
    ["llama.rope.freq_base", f32(500000)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["llama.vocab_size", u32(tokens.length)],
  ]);
  for (const [key, value] of source) if (key.startsWith("tokenizer.")) m.set(key, value);
  m.set("tokenizer.ggml.eos_token_id", u32(EOT_ID));
  m.set("tokenizer.chat_template", typed(T.string, template));
  return { metadata: m, vocab: tokens.length };
}

/**
 * Writes the model next to the llama.cpp source it takes its tokenizer from, unless a file made by this same
 * generator (same code, same dims, same tokenizer) is there already; older ones are deleted. Returns its path.
 */
export function ensureTinyModel({ source, dir }) {
  const vocabFile = join(source, "models", "ggml-vocab-llama-bpe.gguf");
  const templateFile = join(source, "models", "templates", "meta-llama-Llama-3.2-3B-Instruct.jinja");
  const hash = createHash("sha256")
    .update(readFileSync(new URL(import.meta.url)))
    .update(readFileSync(new URL("./gguf.mjs", import.meta.url)))
    .update(readFileSync(vocabFile))
    .update(readFileSync(templateFile))
    .digest("hex")
    .slice(0, 12);
  const path = join(dir, `tiny-llama-${hash}.gguf`);
  if (existsSync(path)) return path;
  // Models of an older generator are stale: 74 MB each.
  for (const name of readdirSync(dir)) if (/^tiny-llama-\w+\.gguf(\.partial)?$/.test(name)) rmSync(join(dir, name));
  const { metadata: m, vocab } = metadata(vocabFile, readFileSync(templateFile, "utf8"));
  writeGGUF(`${path}.partial`, m, tensors(vocab));
  renameSync(`${path}.partial`, path);
  return path;
}
