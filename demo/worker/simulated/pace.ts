/** One SSE event and whether it is a generated token (paced) or bookkeeping (sent right after the previous one). */
export interface PacedEvent {
  data: string;
  token: boolean;
}

/**
 * SSE events as a byte stream at `tokensPerSecond`: token events are due one interval apart (the first after
 * one interval, like a time to first token); each pull waits for the next due time and sends everything due by
 * then, so a fast pace costs few timers. Cancelling (the client went away, or pressed Stop) clears the timer.
 */
export function pacedStream(events: PacedEvent[], tokensPerSecond: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const interval = 1000 / tokensPerSecond;
  const due: number[] = [];
  let tokens = 0;
  for (const event of events) {
    if (event.token) tokens++;
    due.push(tokens * interval);
  }
  let start = 0;
  let next = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start() {
      start = Date.now();
    },
    async pull(controller) {
      const wait = start + due[next]! - Date.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, wait);
        });
      }
      if (cancelled) return;
      const elapsed = Date.now() - start;
      let text = "";
      do text += events[next]!.data;
      while (++next < events.length && due[next]! <= elapsed);
      controller.enqueue(encoder.encode(text));
      if (next >= events.length) controller.close();
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      wake?.();
    },
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
