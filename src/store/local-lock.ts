// Exclusive locks by name within one JavaScript realm: the memory store's lock, a Durable Object's (one object is one
// thread for all its clients), and IndexedDB's where a browser has no Web Locks. First come, first served.
import type { LockOptions } from "./types.js";

export interface LocalLocks {
  run<T>(name: string, fn: () => T | PromiseLike<T>, options?: LockOptions): Promise<T>;
  /** Whether someone holds `name` now. */
  held(name: string): boolean;
}

export function createLocalLocks(): LocalLocks {
  // The holder and the waiters of each name, in order; a name with nobody is deleted.
  const queues = new Map<string, (() => void)[]>();

  const release = (name: string, grant: () => void) => {
    const queue = queues.get(name);
    if (!queue) return;
    const at = queue.indexOf(grant);
    if (at !== -1) queue.splice(at, 1);
    if (queue.length === 0) queues.delete(name);
    else if (at === 0) queue[0]!();
  };

  return {
    held: (name) => queues.has(name),

    async run(name, fn, { signal, onWait } = {}) {
      signal?.throwIfAborted();
      let queue = queues.get(name);
      if (!queue) queues.set(name, (queue = []));
      const mine = queue;
      let grant!: () => void;
      await new Promise<void>((resolve, reject) => {
        // Settles once: granted (the head of the queue is always granted at once) or aborted while waiting.
        let settled = false;
        const abort = () => {
          if (settled) return;
          settled = true;
          release(name, grant);
          reject(signal!.reason);
        };
        grant = () => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener("abort", abort);
          resolve();
        };
        mine.push(grant);
        if (mine.length === 1) return grant();
        // Listening first: onWait may abort the wait at once (a probe that only asks whether the lock is free).
        signal?.addEventListener("abort", abort, { once: true });
        onWait?.();
      });
      try {
        return await fn();
      } finally {
        release(name, grant);
      }
    },
  };
}
