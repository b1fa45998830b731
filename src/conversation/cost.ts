import { parseDataURL } from "../messages/base64.js";
import { type ImageSize, imageSize } from "../images/size.js";

/** The shape fitToContext needs: API messages, conversation messages, or your own with these fields. */
export interface FitMessage {
  role: string;
  content?: string | readonly unknown[] | null;
  tool_calls?: readonly unknown[];
  toolCalls?: readonly unknown[];
  pinned?: boolean;
}

/** What one message costs before calibration; cached per message object and counter. */
export interface MessageCost {
  /** Content text (and tool calls) tokens, without template overhead. */
  text: number;
  /** Image parts, in order; `undefined` size when it could not be read. */
  images: (ImageSize | undefined)[];
}

const NO_IMAGES: MessageCost["images"] = [];
const caches = new WeakMap<(text: string) => number, WeakMap<object, MessageCost>>();

/** The cost cache of one counter: look it up once per fit, not once per message. */
export function costCache(count: (text: string) => number): WeakMap<object, MessageCost> {
  let cache = caches.get(count);
  if (!cache) caches.set(count, (cache = new WeakMap()));
  return cache;
}

/**
 * The cost of a message. Messages are treated as immutable: a changed message must be a new object
 * (which is how Conversation edits them), so each is counted once for the life of the object.
 */
export function cachedCost(cache: WeakMap<object, MessageCost>, message: FitMessage, count: (text: string) => number): MessageCost {
  let cost = cache.get(message);
  if (cost === undefined) {
    cost = computeCost(message, count);
    cache.set(message, cost);
  }
  return cost;
}

export function messageCost(message: FitMessage, count: (text: string) => number): MessageCost {
  return cachedCost(costCache(count), message, count);
}

function computeCost(message: FitMessage, count: (text: string) => number): MessageCost {
  let text = 0;
  let images = NO_IMAGES;
  const content = message.content;
  if (typeof content === "string") text += count(content);
  else if (Array.isArray(content)) {
    for (const part of content as readonly unknown[]) {
      if (typeof part !== "object" || part === null) continue;
      const p = part as { type?: unknown; text?: unknown };
      if (p.type === "text" && typeof p.text === "string") text += count(p.text);
      else if (p.type === "image" || p.type === "image_url") {
        if (images === NO_IMAGES) images = [];
        images.push(sizeOfImagePart(part));
      }
    }
  }
  // Calls as sent, and (a conversation's) with their results.
  const calls = message.tool_calls ?? message.toolCalls;
  if (calls && calls.length > 0) text += count(JSON.stringify(calls));
  return { text, images };
}

/** Size of an image part: given, or read from its bytes (or a data: URL's first bytes). */
export function sizeOfImagePart(part: object): ImageSize | undefined {
  const p = part as { width?: unknown; height?: unknown; data?: unknown; url?: unknown; image_url?: { url?: unknown } };
  if (typeof p.width === "number" && typeof p.height === "number") return { width: p.width, height: p.height };
  if (p.data instanceof Uint8Array) return imageSize(p.data);
  const url = typeof p.url === "string" ? p.url : typeof p.image_url?.url === "string" ? p.image_url.url : undefined;
  if (url?.startsWith("data:")) {
    // The header is in the first bytes: decode a prefix, not the whole image.
    const comma = url.indexOf(",");
    const head = parseDataURL(url.slice(0, comma + 1 + 87_384));
    return head ? imageSize(head.data) : undefined;
  }
  return undefined;
}
