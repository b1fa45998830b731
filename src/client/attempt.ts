import { TimeoutError, UserAbortError } from "../errors/transport.js";

/**
 * The abort state of one call: set by the caller's signal or `abort()`, with a `UserAbortError` as reason.
 * A plain object, not an AbortController: those are costly in Node, and only the attempt needs a real signal.
 */
export class CallAbort {
  readonly #user: AbortSignal | undefined;
  readonly #listeners = new Set<(reason: UserAbortError) => void>();
  readonly #onUserAbort = () => this.abort(this.#user?.reason);
  #reason: UserAbortError | undefined;

  constructor(user: AbortSignal | undefined) {
    this.#user = user;
    if (user?.aborted) this.abort(user.reason);
    else user?.addEventListener("abort", this.#onUserAbort, { once: true });
  }

  get reason(): UserAbortError | undefined {
    return this.#reason;
  }

  /** Call `listener` on abort (at once if already aborted). Returns the unsubscribe function. */
  onAbort(listener: (reason: UserAbortError) => void): () => void {
    if (this.#reason) {
      listener(this.#reason);
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  abort(cause?: unknown): void {
    if (this.#reason) return;
    this.#reason = new UserAbortError({ cause });
    for (const listener of this.#listeners) listener(this.#reason);
    this.#listeners.clear();
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
  readonly #unsubscribe: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #idleMs = 0;
  #lastEventAt = 0;

  constructor(call: CallAbort, timeoutMs: number) {
    this.#unsubscribe = call.onAbort((reason) => this.abort(reason));
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
    this.#unsubscribe();
  }
}
