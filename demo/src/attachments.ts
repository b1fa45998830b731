// The image waiting to be sent: from the file picker, a drop anywhere on the page, or a paste. It is shrunk in
// the browser with prepareImage (to what Llama 3.2 Vision actually sees) before it is previewed and sent.
import { type ImageContent, imageSize, prepareImage } from "edgechat";

export interface Attachment {
  name: string;
  /** What is sent: re-encoded and smaller when the original was larger than the model's canvas. */
  image: ImageContent & { data: Uint8Array; mimeType: string };
  original: { width?: number; height?: number; bytes: number; type: string };
  /** Object URL of the prepared bytes, for the preview. */
  url: string;
}

export type AttachmentState = { kind: "none" } | { kind: "preparing"; name: string } | { kind: "ready"; attachment: Attachment };

export interface Attachments {
  readonly state: AttachmentState;
  add(file: File): Promise<void>;
  clear(): void;
  /** Hand the prepared image over (its preview URL is revoked). */
  take(): Attachment | undefined;
  /** Take back an image handed over but never sent. */
  restore(attachment: Attachment): void;
}

export function createAttachments(onChange: (state: AttachmentState) => void, onError: (error: unknown) => void): Attachments {
  let state: AttachmentState = { kind: "none" };
  let generation = 0;
  const set = (next: AttachmentState) => {
    if (state.kind === "ready" && (next.kind !== "ready" || next.attachment !== state.attachment)) URL.revokeObjectURL(state.attachment.url);
    state = next;
    onChange(state);
  };

  return {
    get state() {
      return state;
    },
    async add(file) {
      const mine = ++generation;
      set({ kind: "preparing", name: file.name || "pasted image" });
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const size = imageSize(bytes);
        const prepared = await prepareImage(file);
        if (!("data" in prepared)) throw new Error("prepareImage returned a URL for a file");
        if (mine !== generation) return; // a newer image replaced this one meanwhile
        const url = URL.createObjectURL(new Blob([prepared.data as Uint8Array<ArrayBuffer>], { type: prepared.mimeType }));
        set({
          kind: "ready",
          attachment: {
            name: file.name || "pasted image",
            image: prepared,
            original: { ...(size && { width: size.width, height: size.height }), bytes: bytes.length, type: file.type },
            url,
          },
        });
      } catch (error) {
        if (mine !== generation) return;
        set({ kind: "none" });
        onError(error);
      }
    },
    clear() {
      generation++;
      set({ kind: "none" });
    },
    take() {
      if (state.kind !== "ready") return undefined;
      const { attachment } = state;
      generation++;
      state = { kind: "none" };
      URL.revokeObjectURL(attachment.url);
      onChange(state);
      return attachment;
    },
    restore(attachment) {
      generation++;
      const url = URL.createObjectURL(new Blob([attachment.image.data as Uint8Array<ArrayBuffer>], { type: attachment.image.mimeType }));
      set({ kind: "ready", attachment: { ...attachment, url } });
    },
  };
}
