// edgechat/tokenizer/llama3: exact Llama 3 token counts, opt-in: it pulls in llama3-tokenizer-js (an optional peer),
// whose vocabulary and merges ship as a ~3 MB module that is decoded when first imported (about a second), so the
// default bundle uses estimateTokens (./estimate.ts, exported by edgechat) instead.
//
// The subpath is named for what an app opts into — the Llama 3 tokenizer — not for this folder (tokens/, which holds
// both counters): `tokenizer/<family>` leaves room for another model family's exact counter beside it, and the name
// users already import stays. Deliberately not exported: the tokenizer itself (encode/decode: import
// llama3-tokenizer-js for those) and the chat template's per-message cost (that is `ModelPreset.template`).
import llama3Tokenizer from "llama3-tokenizer-js";

const PIECE = 16_384;

/**
 * The exact number of tokens the Llama 3 tokenizer (as used by Llama 3.x, including 3.2 Vision) makes of `text`:
 * content only, without begin-of-text, end-of-text or chat-template tokens. (Text that spells a special token, such
 * as "<|eot_id|>", counts as that one token, as llama3-tokenizer-js parses it.)
 */
export function countTokensLlama3(text: string): number {
  try {
    return llama3Tokenizer.encode(text, { bos: false, eos: false }).length;
  } catch (error) {
    // llama3-tokenizer-js spreads each pre-token's ids into one call (push(...ids)), which overflows the stack for a
    // single unbroken run of more than ~100K tokens (e.g. 40K characters of rare CJK with no punctuation). Such a
    // text is counted in pieces; each cut may change the count by a token or two.
    if (!(error instanceof RangeError) || text.length <= PIECE) throw error;
    let total = 0;
    for (let start = 0; start < text.length; ) {
      let end = Math.min(text.length, start + PIECE);
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last < 0xdc00) end--; // keep surrogate pairs whole
      total += countTokensLlama3(text.slice(start, end));
      start = end;
    }
    return total;
  }
}
