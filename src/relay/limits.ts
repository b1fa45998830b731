// How long a generation may run and be kept, and how much it may store: nothing runs or stays for ever.

export interface RelayLimits {
  /** From the start: a generation still streaming then is ended with `edgechat_reason: "max_duration"`. Default 10 min. */
  maxDurationMs: number;
  /** SSE bytes stored per generation; the event that would pass it ends it instead ("max_bytes"). Default 8 MiB. */
  maxBytes: number;
  /** No reader attached for this long: ended ("detached"), so an abandoned reply stops costing tokens. Default 2 min. */
  maxDetachedMs: number;
  /** A finished generation stays readable this long, then an alarm deletes all it stored. Default 10 min. */
  retentionMs: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxDurationMs: 10 * 60_000,
  maxBytes: 8 * 1024 * 1024,
  maxDetachedMs: 2 * 60_000,
  retentionMs: 10 * 60_000,
};

/** The defaults with `given` over them; a limit that is not a positive number is a caller's bug, thrown here. */
export function resolveLimits(given: Partial<RelayLimits> = {}): RelayLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof RelayLimits)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (!(typeof value === "number" && value > 0 && Number.isFinite(value))) throw new RangeError(`relay limit ${key} must be a positive number, got ${String(value)}`);
    limits[key] = value;
  }
  return limits;
}
