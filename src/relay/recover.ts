// A generation whose object was evicted or restarted (a deploy) mid-stream: its upstream connection went with the
// old instance and cannot be picked up. The next instance writes the ending the readers need, so that they end
// interrupted (and the SDK can fall back to continue()) instead of waiting for events that will never come.
import { createSSEParser } from "../sse/parser.js";
import { endingData } from "./ending.js";
import { eventText } from "./events.js";
import { type Batch, type GenerationState, lastBatch, writeBatch } from "./storage.js";
import type { RelayStorageLike } from "./types.js";

/** Ends a stored generation no instance is streaming; returns when it expires. */
export function endOrphan(storage: RelayStorageLike, state: GenerationState, now: number): number {
  const last = lastBatch(storage);
  const firstId = (last?.lastId ?? 0) + 1;
  const data = ending(state, last);
  const expiresAt = now + state.limits.retentionMs;
  writeBatch(storage, { firstId, lastId: firstId + data.length - 1, text: numbered(data, firstId) }, { reason: "upstream_dropped", expiresAt });
  state.reason = "upstream_dropped";
  state.expiresAt = expiresAt;
  return expiresAt;
}

/**
 * A reader whose Last-Event-ID is past what an ended generation stored saw events that were lost with an evicted
 * instance (they are written at most 100 ms after they are sent): it gets the ending, numbered after its own last
 * id, rather than an empty stream. Undefined for every other reader.
 */
export function endingPast(storage: RelayStorageLike, state: GenerationState, after: number): string | undefined {
  const last = lastBatch(storage);
  if (state.reason === undefined || !last || after <= last.lastId) return undefined;
  // The stored ending: [DONE], and the relay's closing chunk before it when there is one.
  const data = dataIn(last.text);
  return numbered(data.at(-2)?.includes('"edgechat_reason"') ? data.slice(-2) : data.slice(-1), after + 1);
}

function ending(state: GenerationState, last: Batch | undefined): string[] {
  const fallback = { id: `gen-${state.id}`, created: Math.floor(state.startedAt / 1000), model: state.model };
  return endingData("upstream_dropped", last && lastChunkIn(last.text), fallback);
}

const numbered = (data: string[], firstId: number) => data.map((d, i) => eventText(firstId + i, d)).join("");

const lastChunkIn = (text: string) => dataIn(text).filter((data) => data.includes("chat.completion.chunk")).at(-1);

function dataIn(text: string): string[] {
  const data: string[] = [];
  createSSEParser({ onEvent: (event) => void data.push(event.data) }).feed(text);
  return data;
}
