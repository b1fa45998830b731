// The writer lock over RPC. The object holds its lock while it awaits `granted`, a callback into the caller that
// runs fn there (workerd passes a function over RPC as a stub). If the caller goes away mid-fn (its request is
// cancelled when its client disconnects), workerd rejects that callback, and the lock is released with it.
// An AbortSignal cannot cross RPC: the caller stops waiting on its own, and a grant that comes later is handed
// straight back without running fn.
import { StorageError } from "../errors.js";
import type { LockOptions } from "../types.js";
import { answer, replyError, type StoreReply, unreachable } from "./reply.js";
import type { LockingStore } from "./types.js";

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Inside the object: hold the lock for as long as the caller's `granted` callback runs. */
export function answerLockCall(store: LockingStore, id: string, granted: () => Promise<void>, waiting: () => unknown): Promise<StoreReply> {
  // Telling a caller that has gone away that it waits can only fail, and nothing depends on it.
  const onWait = () => void Promise.resolve(waiting()).catch(() => undefined);
  return answer(() => store.lockConversation(id, () => granted(), { onWait }));
}

interface LockStub {
  conversationLock(id: string, granted: () => Promise<void>, waiting: () => void): Promise<unknown>;
}

/** On the caller's side: run `fn` here while the object holds the conversation's lock for it. */
export async function lockThroughObject<T>(stub: LockStub, id: string, fn: () => T | PromiseLike<T>, { signal, onWait }: LockOptions = {}): Promise<T> {
  signal?.throwIfAborted();
  let state: "waiting" | "granted" | "gave up" = "waiting";
  let ran: Promise<Outcome<T>> | undefined;
  const granted = async () => {
    if (state !== "waiting") return;
    state = "granted";
    await (ran = outcomeOf(fn));
  };
  const waiting = () => void (state === "waiting" && onWait?.());
  const call = stub.conversationLock(id, granted, waiting).then(
    (reply) => ((reply as StoreReply).ok ? undefined : replyError((reply as Extract<StoreReply, { ok: false }>).error)),
    (error: unknown) => unreachable("lockConversation", error),
  );
  // Returns once the object has released the lock, so that what the caller does next finds it free.
  const failure = await whileWaiting(call, signal, () => state === "waiting" && ((state = "gave up"), true));
  if (ran) {
    const outcome = await ran;
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }
  throw failure ?? new StorageError(`The Durable Object released the lock on "${id}" without granting it`);
}

async function outcomeOf<T>(fn: () => T | PromiseLike<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** `promise`, or signal.reason if the signal aborts while `stop()` agrees (still waiting). */
function whileWaiting<T>(promise: Promise<T>, signal: AbortSignal | undefined, stop: () => boolean): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => void (stop() && reject(signal.reason));
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
