import { TimeoutError, UserAbortError } from "../errors/transport.js";

/**
 * The abort signal of one call: fires with a `UserAbortError` when the caller's signal aborts or
 * `abort()` is called. Each attempt derives its own signal from it (see `Attempt`).
 */
export class CallAbort {
  readonly #controller = new AbortController();
  readonly #user: AbortSignal | undefined;
  readonly #onUserAbort = () => this.abort(this.#user?.reason);

  constructor(user: AbortSignal | undefined) {
    this.#user = user;
    if (user?.aborted) this.abort(user.reason);
    else user?.addEventListener("abort", this.#onUserAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(cause?: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(new UserAbortError({ cause }));
  }

  dispose(): void {
    this.#user?.removeEventListener("abort", this.#onUserAbort);
  }
}

/**
 * One try at the request: aborted by the call, by `timeout` (the whole attempt, body included) or by
 * `idleTimeout` (no stream event for that long). The signal's reason is always the typed error to throw.
 */
export class Attempt {
  readonly #controller = new AbortController();
  readonly #call: AbortSignal;
  readonly #onCallAbort = () => this.abort(this.#call.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #idleMs = 0;
  #lastEventAt = 0;

  constructor(call: AbortSignal, timeoutMs: number) {
    this.#call = call;
    if (call.aborted) this.abort(call.reason);
    else call.addEventListener("abort", this.#onCallAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(() => this.abort(new TimeoutError("request", timeoutMs)), timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Start watching the gap between events. One timer re-arms itself, so marking an event costs a clock read. */
  watchIdle(idleMs: number): void {
    if (!(idleMs > 0 && Number.isFinite(idleMs))) return;
    this.#idleMs = idleMs;
    this.#lastEventAt = Date.now();
    const check = () => {
      const quiet = Date.now() - this.#lastEventAt;
      if (quiet >= this.#idleMs) this.abort(new TimeoutError("idle", this.#idleMs));
      else this.#idleTimer = setTimeout(check, this.#idleMs - quiet);
    };
    this.#idleTimer = setTimeout(check, idleMs);
  }

  markEvent(): void {
    if (this.#idleMs > 0) this.#lastEventAt = Date.now();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#idleTimer);
    this.#call.removeEventListener("abort", this.#onCallAbort);
  }
}
