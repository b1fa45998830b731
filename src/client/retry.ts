import type { CallAbort } from "./attempt.js";

const INITIAL_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;
/** A server's `Retry-After` is honoured up to this; beyond it, the normal backoff applies. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Milliseconds to wait before retry number `attempt` (1-based), from the server's hint or backoff. */
export function retryDelay(attempt: number, headers: Headers | undefined, random: () => number = Math.random): number {
  const hinted = headers ? retryAfterMs(headers) : undefined;
  if (hinted !== undefined && hinted <= MAX_RETRY_AFTER_MS) return hinted;
  // Exponential backoff with up to 25% jitter below the nominal delay, so clients do not retry in lockstep.
  const nominal = Math.min(INITIAL_DELAY_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(nominal * (1 - random() * 0.25));
}

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;

/** `retry-after-ms`, then `Retry-After` as seconds or an HTTP date. Undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  // The pattern has no sign, so only a date in the past can come out negative.
  const ms = headers.get("retry-after-ms");
  if (ms !== null && DECIMAL.test(ms)) return Math.round(Number(ms));
  const after = headers.get("retry-after");
  if (after === null) return undefined;
  if (DECIMAL.test(after)) return Math.round(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolve after `ms`, or reject with the abort reason as soon as the call is aborted. */
export function sleep(ms: number, call: CallAbort): Promise<void> {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
    unsubscribe = call.onAbort((reason) => {
      clearTimeout(timer);
      reject(reason);
    });
  });
}
