// A reader's stream: every event after its Last-Event-ID from storage, then the events not yet written, then the
// live tail. All of it is gathered in the stream's synchronous start, so no event can slip in between.
import { eventsAfter } from "./events.js";
import { batchesAfter } from "./storage.js";
import type { RelayStorageLike } from "./types.js";

const encoder = new TextEncoder();

/** A reader attached to a generation that is still streaming. */
export interface Reader {
  /** An event (id) or a comment (no id); an event at or before what the reader has is skipped. */
  push(id: number | undefined, bytes: Uint8Array): void;
  close(): void;
}

/** The live generation, for a reader that should follow it. */
export interface LiveSource {
  pending(): readonly { id: number; text: string }[];
  /** Attach the reader; false when the generation has ended (the reader then closes after what it got). */
  join(reader: Reader): boolean;
  leave(reader: Reader): void;
}

/** Without `live`, what storage holds: a generation that ended, read by any instance of its object. */
export function createReader(storage: RelayStorageLike, after: number, live?: LiveSource): ReadableStream<Uint8Array> {
  let attached: Reader | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let cursor = after;
      let text = "";
      for (const batch of batchesAfter(storage, cursor)) {
        text += eventsAfter(batch.text, batch.firstId, cursor);
        cursor = batch.lastId;
      }
      for (const event of live?.pending() ?? []) {
        if (event.id <= cursor) continue;
        text += event.text;
        cursor = event.id;
      }
      if (text !== "") controller.enqueue(encoder.encode(text));
      const reader: Reader = {
        push(id, bytes) {
          if (id !== undefined) {
            if (id <= cursor) return;
            cursor = id;
          }
          controller.enqueue(bytes);
        },
        close: () => controller.close(),
      };
      if (live?.join(reader)) attached = reader;
      else controller.close();
    },
    // The client went away (its connection closed): the reader detaches, the generation goes on.
    cancel() {
      if (attached) live?.leave(attached);
      attached = undefined;
    },
  });
}
