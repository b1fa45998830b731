// Aborting frees llama-server's only slot (--parallel 1): the generation stops soon after the client leaves, and
// the next request is served at once instead of waiting for the rest of the abandoned one's max_tokens.
// How the server notices: a stream, at its next write; a non-streamed request, when its wait for the result has
// gone one second (its polling interval) without any result of any task being posted, so other traffic (even
// GET /slots) postpones it. The cases below therefore poll nothing while a non-streamed request is cancelled.
import { describe, expect, it } from "vitest";
import { UserAbortError } from "../../src/index.ts";
import { MODEL, peer, peerClient } from "./peer.ts";

const processing = async () => ((await (await fetch(`${peer().baseURL}/slots`)).json()) as { is_processing: boolean }[])[0]!.is_processing;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const messages = [{ role: "user" as const, content: "Write a very long story about a lighthouse." }];
const LONG = 1900;

/** How long one generated token takes here, from the server's own timings. */
async function msPerToken(): Promise<number> {
  const completion = await peerClient().chat.completions.create({ model: MODEL, messages, max_tokens: 100, temperature: 1, seed: 1 });
  return (completion.timings as { predicted_per_token_ms: number }).predicted_per_token_ms;
}

/** Milliseconds the next request (one token) takes to be answered. */
async function nextRequest(): Promise<number> {
  const start = performance.now();
  const next = await peerClient().chat.completions.create({ model: MODEL, messages, max_tokens: 1 });
  expect(next.choices[0]?.message.content).toEqual(expect.any(String));
  return performance.now() - start;
}

describe("abort", () => {
  it("breaking out of a stream stops the generation and frees the slot: the next request is served at once", async () => {
    const perToken = await msPerToken();
    const stream = peerClient().chat.completions.create({ model: MODEL, messages, max_tokens: LONG, temperature: 1, seed: 2, stream: true });
    let chunks = 0;
    for await (const _ of stream) if (++chunks === 5) break;
    const served = await nextRequest();
    expect(await processing()).toBe(false);
    // Had the slot stayed busy, the next request would have waited for the rest of the abandoned generation.
    const rest = (LONG - chunks) * perToken;
    expect(served).toBeLessThan(Math.min(1_000, rest / 4));
    console.log(`abort (stream): next request served in ${served.toFixed(0)} ms; the rest of the generation would have taken ~${(rest / 1000).toFixed(1)} s`);
  });

  it("an AbortSignal ends a non-streamed request with UserAbortError and frees the slot within the server's polling second", async () => {
    const perToken = await msPerToken();
    const controller = new AbortController();
    const pending = peerClient().chat.completions.create({ model: MODEL, messages, max_tokens: LONG, temperature: 1, seed: 3 }, { signal: controller.signal });
    await sleep(300);
    expect(await processing()).toBe(true);
    await sleep(200);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(UserAbortError);
    const served = await nextRequest();
    const rest = LONG * perToken - 500;
    expect(served).toBeLessThan(Math.min(2_500, rest / 2));
    expect(await processing()).toBe(false);
    console.log(`abort (non-streamed): next request served in ${served.toFixed(0)} ms; the rest of the generation would have taken ~${(rest / 1000).toFixed(1)} s`);
  });
});
