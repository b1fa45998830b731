// Stop sequences: the server cuts the reply before the first occurrence and says finish_reason "stop"; the SDK's
// streamed and whole replies agree with it. A random model says nothing predictable, so the stop string is taken
// from what it says without one (greedy decoding says the same again).
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/index.ts";
import { MODEL, peerClient } from "./peer.ts";

const messages: ChatMessage[] = [{ role: "user", content: "Count from one to twenty, one number per line." }];
const params = { model: MODEL, messages, max_tokens: 40, temperature: 0 };

/** Three printable ASCII characters from the second half of `text` that do not occur earlier: where a stop at them must cut. */
function stopIn(text: string): { stop: string; before: string } {
  for (let at = Math.floor(text.length / 2); at < text.length - 2; at++) {
    const stop = text.slice(at, at + 3);
    if (/^[!-~]{3}$/.test(stop) && text.indexOf(stop) === at) return { stop, before: text.slice(0, at) };
  }
  throw new Error(`no usable stop string in ${JSON.stringify(text)}`);
}

describe("stop sequences", () => {
  it("cut the reply before the stop string, finish_reason stop, streamed or not", async () => {
    const client = peerClient();
    const free = await client.chat.completions.create(params);
    const text = free.choices[0]!.message.content!;
    const { stop, before } = stopIn(text);

    const whole = await client.chat.completions.create({ ...params, stop: [stop, "never-said-zzz"] });
    expect(whole.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: before } });
    expect(whole.usage!.completion_tokens).toBeLessThan(free.usage!.completion_tokens);

    const stream = client.chat.completions.create({ ...params, stop, stream: true });
    let streamed = "";
    for await (const delta of stream.textStream) streamed += delta;
    expect(streamed).toBe(before);
    expect((await stream.finalChatCompletion()).choices[0]?.finish_reason).toBe("stop");
  });
});
