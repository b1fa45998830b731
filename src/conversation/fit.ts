import { tileCount } from "../images/tiles.js";
import { estimateTokens } from "../tokens/estimate.js";
import { type FitMessage, messageCost } from "./cost.js";
import { ContextBudgetError, ImageLimitError } from "./errors.js";
import { type ImageCost, type ImagePolicy, LLAMA_32_VISION_IMAGE } from "./presets.js";
import { LLAMA3_TEMPLATE, type TemplateCost } from "./template.js";

export interface FitOptions<M extends FitMessage = FitMessage> {
  /** Tokens the model accepts, input and output together. */
  contextWindow: number;
  /** Tokens reserved for the reply (the request's `max_tokens`). */
  maxOutputTokens: number;
  /** Counts the tokens of a text; default `estimateTokens`. */
  countTokens?: (text: string) => number;
  /** `"all"` (default here), `"latest"`: only the most recent image is sent, older ones become a short text; `"error"`: more than `maxImages` throws. */
  imagePolicy?: ImagePolicy;
  /** For `imagePolicy: "error"`; default 1. */
  maxImages?: number;
  /** Default: Llama 3.2 Vision's (560 px tiles, at most 4, 1,601 tokens each). */
  image?: ImageCost;
  /** Default: Llama 3's chat template. */
  template?: TemplateCost;
  /** Tokens kept free for the counter's error; default 2% of the window. */
  safetyMargin?: number;
  /** Calibration: multiply counted text and image tokens by these (see Conversation). */
  scale?: { text?: number; image?: number };
  /** A message standing for dropped turns (from a summarizer), placed after the system messages when any turn is dropped. */
  summary?: M;
}

export interface FitResult<M extends FitMessage = FitMessage> {
  /** What to send, in order: system messages, the summary (if used), pinned turns, then the newest turns. */
  messages: M[];
  /** Messages left out, in order. */
  dropped: M[];
  /** Whole turns left out. */
  droppedTurns: number;
  /** Estimated input tokens of `messages`, template included. */
  tokens: number;
  /** Input tokens available: window − reserved output − safety margin. */
  budget: number;
  /** Whether `summary` was included. */
  summarized: boolean;
  /** `tokens` before calibration, split into text (with template) and image tokens. */
  estimate: { text: number; image: number };
}

/** What an omitted image becomes under imagePolicy "latest". */
export const OMITTED_IMAGE_TEXT = "[An earlier image was shown here; only the most recent image is sent.]";

interface Turn {
  start: number;
  end: number;
  pinned: boolean;
}

/**
 * Choose what to send so the request fits the context window. Pure: it reads `messages` and returns new
 * arrays. Guarantees: leading system messages and the newest user message (with what follows it) are kept;
 * whole turns — a user message with the replies, tool calls and tool results after it — are dropped oldest
 * first and never split; the result never starts (after system messages) with an assistant or tool message;
 * pinned messages keep their turn however old. Throws `ContextBudgetError` when what must be kept does not fit.
 */
export function fitToContext<M extends FitMessage>(messages: readonly M[], options: FitOptions<M>): FitResult<M> {
  const count = options.countTokens ?? estimateTokens;
  const template = options.template ?? LLAMA3_TEMPLATE;
  const image = options.image ?? LLAMA_32_VISION_IMAGE;
  const policy = options.imagePolicy ?? "all";
  const textScale = options.scale?.text ?? 1;
  const imageScale = options.scale?.image ?? 1;
  const margin = options.safetyMargin ?? Math.ceil(options.contextWindow * 0.02);
  const budget = options.contextWindow - options.maxOutputTokens - margin;
  const placeholder = policy === "latest" ? count(OMITTED_IMAGE_TEXT) : 0;

  let rawText = template.perRequest;
  let rawImage = 0;
  const total = () => Math.ceil(rawText * textScale + rawImage * imageScale);
  // Under "latest", the first image met walking back from the newest message is the one sent whole.
  let latestTaken = policy !== "latest";
  // Pinned turns are counted before newer turns are walked: their images count whole, without taking the
  // "latest" slot (over-counting them is safe; under-counting a newer image would not be).
  let countImagesWhole = false;
  const costOf = (m: M): [number, number] => {
    const cost = messageCost(m, count);
    let text = cost.text + template.perMessage;
    let img = 0;
    const images = cost.images;
    for (let i = images.length - 1; i >= 0; i--) {
      if (countImagesWhole) img += tileCount(images[i], image) * image.tokensPerTile;
      else if (!latestTaken) {
        latestTaken = true;
        img += tileCount(images[i], image) * image.tokensPerTile;
      } else if (policy === "latest") text += placeholder;
      else img += tileCount(images[i], image) * image.tokensPerTile;
    }
    return [text, img];
  };
  const addRange = (start: number, end: number) => {
    for (let i = end - 1; i >= start; i--) {
      const [t, im] = costOf(messages[i]!);
      rawText += t;
      rawImage += im;
    }
  };

  // Leading system messages.
  let systemEnd = 0;
  while (systemEnd < messages.length && messages[systemEnd]!.role === "system") systemEnd++;
  addRange(0, systemEnd);

  // Turns, newest first. A run before the first user message has no user to start it: never sent.
  const turns: Turn[] = [];
  let end = messages.length;
  let pinnedInTurn = false;
  for (let i = messages.length - 1; i >= systemEnd; i--) {
    const m = messages[i]!;
    if (m.pinned === true) pinnedInTurn = true;
    if (m.role === "user") {
      turns.push({ start: i, end, pinned: pinnedInTurn });
      end = i;
      pinnedInTurn = false;
    }
  }
  const orphanStart = systemEnd;
  const orphanEnd = end;

  // What must be sent: the newest turn, then pinned turns (counted now, so recent turns fill what is left).
  const keep = new Array<boolean>(turns.length).fill(false);
  if (turns.length > 0) {
    addRange(turns[0]!.start, turns[0]!.end);
    keep[0] = true;
  }
  countImagesWhole = true;
  for (let k = 1; k < turns.length; k++) {
    if (turns[k]!.pinned) {
      addRange(turns[k]!.start, turns[k]!.end);
      keep[k] = true;
    }
  }
  countImagesWhole = false;
  const summary = options.summary;
  let summaryText = 0;
  let summaryImage = 0;
  if (summary) [summaryText, summaryImage] = costOf(summary);
  const mandatory = total();
  if (mandatory > budget) throw new ContextBudgetError(mandatory, budget);

  // Fill with the newest unpinned turns while they fit; the first that does not fit ends the walk.
  let droppedTurns = 0;
  let k = 1;
  for (; k < turns.length; k++) {
    const turn = turns[k]!;
    if (turn.pinned) continue;
    const beforeText = rawText;
    const beforeImage = rawImage;
    const beforeLatest = latestTaken;
    addRange(turn.start, turn.end);
    if (total() > budget) {
      rawText = beforeText;
      rawImage = beforeImage;
      latestTaken = beforeLatest;
      break;
    }
    keep[k] = true;
  }
  for (; k < turns.length; k++) if (!keep[k]) droppedTurns++;

  // A summary stands in for dropped turns, if it fits too.
  let summarized = false;
  if (summary && (droppedTurns > 0 || orphanEnd > orphanStart)) {
    rawText += summaryText;
    rawImage += summaryImage;
    if (total() <= budget) summarized = true;
    else {
      rawText -= summaryText;
      rawImage -= summaryImage;
    }
  }

  const kept: M[] = messages.slice(0, systemEnd);
  if (summarized) kept.push(summary!);
  const dropped: M[] = messages.slice(orphanStart, orphanEnd);
  for (let t = turns.length - 1; t >= 0; t--) {
    const turn = turns[t]!;
    const target = keep[t] ? kept : dropped;
    for (let i = turn.start; i < turn.end; i++) target.push(messages[i]!);
  }

  const sent = policy === "latest" ? keepLatestImage(kept) : kept;
  if (policy === "error") {
    const images = sent.reduce((n, m) => n + messageCost(m, count).images.length, 0);
    const max = options.maxImages ?? 1;
    if (images > max) throw new ImageLimitError(images, max);
  }
  return {
    messages: sent,
    dropped,
    droppedTurns: droppedTurns + (orphanEnd > orphanStart ? 1 : 0),
    tokens: total(),
    budget,
    summarized,
    estimate: { text: rawText, image: rawImage },
  };
}

/** Replace every image but the most recent one with a short text, in new message objects. */
function keepLatestImage<M extends FitMessage>(messages: M[]): M[] {
  let found = false;
  const out = messages.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    const m = out[i]!;
    if (!Array.isArray(m.content)) continue;
    const parts = m.content as readonly { type?: unknown }[];
    let changed = false;
    const next = new Array<unknown>(parts.length);
    for (let p = parts.length - 1; p >= 0; p--) {
      const part = parts[p]!;
      const isImage = part?.type === "image" || part?.type === "image_url";
      if (isImage && found) {
        next[p] = { type: "text", text: OMITTED_IMAGE_TEXT };
        changed = true;
      } else {
        if (isImage) found = true;
        next[p] = part;
      }
    }
    if (changed) out[i] = { ...m, content: next };
  }
  return out;
}
