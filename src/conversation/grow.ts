// A streaming reply growing chunk by chunk: the writer's stream and a follower's read of the same generation both
// grow their message this way, so both hold tool calls back alike and store the same resume points.
import type { ChatCompletionChunkChoice, ResumePoint } from "../client/types.js";
import type { AssistantMessage } from "../messages/types.js";
import type { ToolRunner } from "./options.js";

export interface Growing {
  /** This stream's text so far (the message shows `before` + this, less what a tool call holds back). */
  readonly received: string;
  /** `base` with one more chunk's delta; `point` is where the stream stands after it (a relay's), if anywhere. */
  next(base: AssistantMessage, delta: ChatCompletionChunkChoice["delta"] | undefined, point: ResumePoint | undefined): AssistantMessage;
}

/**
 * A reply that showed `before` (read from `resume`, when it is carried on from a relay's generation) growing by a
 * stream's chunks. Its resume point is that of the latest event whose text it shows whole: text that may be a tool
 * call is held back from `content`, and a page that carries the reply on from the point reads that text again.
 */
export function growing(before: string, resume: ResumePoint | undefined, tools: ToolRunner | undefined): Growing {
  let received = "";
  let whole = resume;
  return {
    get received() {
      return received;
    },
    next(base, delta, point) {
      received += delta?.content ?? "";
      let next: AssistantMessage = { ...base, content: before + received, status: "streaming" };
      if (tools) next = tools.fold(next, delta?.tool_calls ?? undefined, received, false);
      if (point) {
        whole = next.content.length === before.length + received.length ? point : (whole ?? { url: point.url, lastEventId: "" });
        next.resume = whole;
      } else delete next.resume; // a continued reply (no relay) never keeps the point of the generation it continues
      return next;
    },
  };
}
