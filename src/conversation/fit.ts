import { tileCount } from "../images/tiles.js";
import { estimateTokens } from "../tokens/estimate.js";
import { cachedCost, costCache, type FitMessage, messageCost } from "./cost.js";
import { ContextBudgetError, ImageLimitError } from "./errors.js";
import { type ImageCost, type ImagePolicy, LLAMA_32_VISION_IMAGE } from "../models/presets.js";
import { LLAMA3_TEMPLATE, type TemplateCost } from "../models/template.js";

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
  /** Tokens the request carries besides its messages (the tools' definitions), already scaled. */
  reserve?: number;
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
  const budget = options.contextWindow - options.maxOutputTokens - margin - (options.reserve ?? 0);
  const placeholder = policy === "latest" ? count(OMITTED_IMAGE_TEXT) : 0;

  let rawText = template.perRequest;
  let rawImage = 0;
  const total = () => Math.ceil(rawText * textScale + rawImage * imageScale);
  // Under "latest", the first image met walking back from the newest message is the one sent whole.
  let latestTaken = policy !== "latest";
  // Pinned turns are counted before newer turns are walked: their images count whole, without taking the
  // "latest" slot (over-counting them is safe; under-counting a newer image would not be).
  let countImagesWhole = false;
  const cache = costCache(count);
  // costOf adds to these (no tuple per message).
  let addText = 0;
  let addImage = 0;
  const costOf = (m: M): void => {
    const cost = cachedCost(cache, m, count);
    addText = cost.text + template.perMessage;
    addImage = 0;
    const images = cost.images;
    for (let i = images.length - 1; i >= 0; i--) {
      if (countImagesWhole) addImage += tileCount(images[i], image) * image.tokensPerTile;
      else if (!latestTaken) {
        latestTaken = true;
        addImage += tileCount(images[i], image) * image.tokensPerTile;
      } else if (policy === "latest") addText += placeholder;
      else addImage += tileCount(images[i], image) * image.tokensPerTile;
    }
  };
  const addRange = (start: number, end: number) => {
    for (let i = end - 1; i >= start; i--) {
      costOf(messages[i]!);
      rawText += addText;
      rawImage += addImage;
    }
  };

  // Leading system messages.
  const n = messages.length;
  let systemEnd = 0;
  while (systemEnd < n && messages[systemEnd]!.role === "system") systemEnd++;
  addRange(0, systemEnd);

  // Work in proportion to what is kept: one tight pass counts the user messages (turns)
  // and finds pinned messages; turns are then walked newest first only as far as the budget reaches.
  let users = 0;
  let firstUser = -1;
  let pinned: number[] | undefined;
  for (let i = systemEnd; i < n; i++) {
    const m = messages[i]!;
    if (m.role === "user") {
      users++;
      if (firstUser < 0) firstUser = i;
    }
    if (m.pinned === true) (pinned ??= []).push(i);
  }
  const orphanEnd = firstUser < 0 ? n : firstUser;
  const hasOrphans = orphanEnd > systemEnd;
  const turnStart = (i: number) => {
    while (i >= orphanEnd && messages[i]!.role !== "user") i--;
    return i;
  };
  const turnEnd = (i: number) => {
    i++;
    while (i < n && messages[i]!.role !== "user") i++;
    return i;
  };
  // Pinned turns (not orphans), oldest first, as [start, end) pairs; the newest turn is never among them.
  const newestStart = firstUser < 0 ? n : turnStart(n - 1);
  const pinnedTurns: number[] = [];
  if (pinned) {
    for (const p of pinned) {
      if (p < orphanEnd || p >= newestStart) continue;
      const start = turnStart(p);
      if (pinnedTurns.length > 0 && pinnedTurns[pinnedTurns.length - 2] === start) continue;
      pinnedTurns.push(start, turnEnd(p));
    }
  }
  const isPinnedStart = (start: number) => {
    for (let k = 0; k < pinnedTurns.length; k += 2) if (pinnedTurns[k] === start) return true;
    return false;
  };

  if (firstUser >= 0) addRange(newestStart, n);
  countImagesWhole = true;
  for (let k = pinnedTurns.length - 2; k >= 0; k -= 2) addRange(pinnedTurns[k]!, pinnedTurns[k + 1]!);
  countImagesWhole = false;
  const summary = options.summary;
  let summaryText = 0;
  let summaryImage = 0;
  if (summary) {
    costOf(summary);
    summaryText = addText;
    summaryImage = addImage;
  }
  const mandatory = total();
  if (mandatory > budget) throw new ContextBudgetError(mandatory, budget);

  // Fill with the newest unpinned turns while they fit; the first that does not fit ends the walk.
  let cut = newestStart; // [cut, n) is kept
  let keptTurns = firstUser >= 0 ? 1 : 0; // turns in [cut, n)
  while (cut > orphanEnd) {
    const start = turnStart(cut - 1);
    if (isPinnedStart(start)) {
      cut = start;
      keptTurns++;
      continue;
    }
    const beforeText = rawText;
    const beforeImage = rawImage;
    const beforeLatest = latestTaken;
    addRange(start, cut);
    if (total() > budget) {
      rawText = beforeText;
      rawImage = beforeImage;
      latestTaken = beforeLatest;
      break;
    }
    cut = start;
    keptTurns++;
  }
  // Pinned turns older than the cut are kept apart; the others there are dropped.
  let olderPinned = 0;
  for (let k = 0; k < pinnedTurns.length; k += 2) if (pinnedTurns[k]! < cut) olderPinned++;
  const droppedTurns = users - keptTurns - olderPinned;

  // A summary stands in for dropped turns, if it fits too.
  let summarized = false;
  if (summary && (droppedTurns > 0 || hasOrphans)) {
    rawText += summaryText;
    rawImage += summaryImage;
    if (total() <= budget) summarized = true;
    else {
      rawText -= summaryText;
      rawImage -= summaryImage;
    }
  }

  const kept = messages.slice(0, systemEnd);
  if (summarized) kept.push(summary!);
  let dropped = messages.slice(systemEnd, orphanEnd);
  let from = orphanEnd;
  for (let k = 0; k < pinnedTurns.length && pinnedTurns[k]! < cut; k += 2) {
    for (let i = from; i < pinnedTurns[k]!; i++) dropped.push(messages[i]!);
    for (let i = pinnedTurns[k]!; i < pinnedTurns[k + 1]!; i++) kept.push(messages[i]!);
    from = pinnedTurns[k + 1]!;
  }
  // One copy of the (often long) dropped run, not a slice and then a concat of it.
  if (dropped.length === 0) dropped = messages.slice(from, cut);
  else for (let i = from; i < cut; i++) dropped.push(messages[i]!);
  for (let i = cut; i < n; i++) kept.push(messages[i]!);

  const sent = policy === "latest" ? keepLatestImage(kept) : kept;
  if (policy === "error") {
    const images = sent.reduce((n, m) => n + messageCost(m, count).images.length, 0);
    const max = options.maxImages ?? 1;
    if (images > max) throw new ImageLimitError(images, max);
  }
  return {
    messages: sent,
    dropped,
    droppedTurns: droppedTurns + (hasOrphans ? 1 : 0),
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
