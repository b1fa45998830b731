// The page's tools (edgechat/tools): functions the model may call, run here in the browser. Their calls and results
// are stored with the reply that made them, so a reload shows them, and a call waiting for approval still waits.
//   local_time        the browser's date, time and time zone (Intl)
//   image_size        width, height, bytes and type of the latest image in the conversation
//   copy_to_clipboard puts text on the clipboard — asks first (needsApproval): Allow / Deny on the call's row
import type { ImageContent, Message } from "edgechat";
import { tool, toolset } from "edgechat/tools";
import * as v from "valibot";

export interface ToolsHost {
  /** The messages of the conversation a call belongs to (its id is in one of them), or undefined if none has it. */
  messagesOf(callId: string): readonly Message[] | undefined;
}

export function pageTools(host: ToolsHost) {
  return toolset({
    local_time: tool({
      description: "The current date, time and time zone of the user's browser.",
      parameters: v.object({}),
      execute: () => localTime(new Date()),
    }),
    image_size: tool({
      description: "The size of the image the user attached most recently in this conversation: width and height in pixels, bytes, and type.",
      parameters: v.object({}),
      execute: (_args, { callId }) => imageSize(host.messagesOf(callId) ?? []),
    }),
    copy_to_clipboard: tool({
      description: "Copy text to the user's clipboard. The user is asked to allow it first.",
      parameters: v.object({ text: v.pipe(v.string(), v.minLength(1), v.maxLength(20_000)) }),
      needsApproval: true,
      execute: async ({ text }) => {
        await navigator.clipboard.writeText(text);
        return { copied: [...text].length };
      },
    }),
  });
}

/** `{ time: "14:05", date: "Tuesday 3 March 2026", timeZone: "Europe/Paris", utcOffset: "+01:00" }`. */
export function localTime(now: Date): { time: string; date: string; timeZone: string; utcOffset: string } {
  const { timeZone } = Intl.DateTimeFormat().resolvedOptions();
  // A fixed locale and 24-hour clock: the model reads it, not the user; the time zone is the browser's own.
  const time = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(now);
  const date = new Intl.DateTimeFormat("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(now).replace(",", "");
  const minutes = -now.getTimezoneOffset();
  const abs = Math.abs(minutes);
  const utcOffset = `${minutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return { time, date, timeZone, utcOffset };
}

/** The latest image of the path (the last one of the newest user message that has any), as the model was sent it. */
export async function imageSize(messages: readonly Message[]): Promise<{ width: number | null; height: number | null; bytes: number | null; type: string | null }> {
  let image: ImageContent | undefined;
  for (let i = messages.length - 1; i >= 0 && !image; i--) {
    const m = messages[i]!;
    if (m.role === "user" && typeof m.content !== "string") image = m.content.filter((p): p is ImageContent => p.type === "image").at(-1);
  }
  if (!image) throw new Error("No image is attached in this conversation. Attach one with the clip button, by dropping it, or by pasting it.");
  if (!("data" in image)) return { width: image.width ?? null, height: image.height ?? null, bytes: null, type: null };
  let { width, height } = image;
  if (width === undefined || height === undefined) {
    // Not known from its header: decode it.
    const bitmap = await createImageBitmap(new Blob([image.data as Uint8Array<ArrayBuffer>], { type: image.mimeType }));
    ({ width, height } = bitmap);
    bitmap.close();
  }
  return { width, height, bytes: image.data.byteLength, type: image.mimeType };
}
