// The ending the relay writes when it stops a generation the upstream did not finish: a valid last chunk whose
// finish_reason the SDK maps to an interrupted reply, with the reason beside it, then [DONE].

export type EndReason = "cancelled" | "max_duration" | "max_bytes" | "detached" | "upstream_dropped";

interface Envelope {
  id: string;
  created: number;
  model: string;
  /** The last chunk already said why the reply ended (only [DONE] was missing). */
  finished: boolean;
}

/**
 * The data of the ending events. `lastChunk` is the data of the upstream's last JSON event (its id, created and
 * model are copied), `fallback` what to use when there was none.
 */
export function endingData(reason: EndReason, lastChunk: string | undefined, fallback: Omit<Envelope, "finished">): string[] {
  const e = envelopeOf(lastChunk) ?? { ...fallback, finished: false };
  // A reply whose last chunk had its finish_reason is whole: a cut before [DONE] only loses the sentinel.
  if (e.finished) return ["[DONE]"];
  const chunk = {
    id: e.id,
    object: "chat.completion.chunk",
    created: e.created,
    model: e.model,
    choices: [{ index: 0, delta: {}, finish_reason: "cancelled" }],
    edgechat_reason: reason,
  };
  return [JSON.stringify(chunk), "[DONE]"];
}

function envelopeOf(data: string | undefined): Envelope | undefined {
  if (data === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  const c = value as { id?: unknown; created?: unknown; model?: unknown; choices?: { finish_reason?: unknown }[] } | null;
  if (typeof c?.id !== "string" || typeof c.created !== "number" || typeof c.model !== "string") return undefined;
  const finished = Array.isArray(c.choices) && c.choices.some((choice) => typeof choice?.finish_reason === "string");
  return { id: c.id, created: c.created, model: c.model, finished };
}
