// What the next request would carry: the SDK's own fitting (fitToContext, with the conversation's calibration,
// context window and budget) over the path shown plus what is being typed and attached. A message the SDK refused
// as too long (nothing was sent) is not part of it: the next send takes its place (see app.ts).
import { ContextBudgetError, type Conversation, type FitMessage, fitToContext, type ImageContent, type Message, MODEL_PRESETS, type UserMessage } from "edgechat";

/** What is in the message box: its text and the image attached to it, if any. */
export interface Draft {
  text: string;
  image?: ImageContent | undefined;
}

export const EMPTY_DRAFT: Draft = { text: "" };

export type NextRequest =
  | {
      fits: true;
      /** Input tokens of the next request, the draft included. */
      tokens: number;
      /** Of those, the draft's (text, image and template). */
      draft: number;
      /** Input tokens available: window − reserved output − safety margin. */
      budget: number;
      /** Whole turns the next request would leave out. */
      droppedTurns: number;
    }
  | {
      fits: false;
      /** The draft alone needs this many tokens… */
      needed: number;
      /** …and only this many fit. */
      budget: number;
    };

/**
 * The index of the user message of a refused turn at the end of the path (its reply failed with ContextBudgetError:
 * too long, nothing was sent), or -1.
 */
export function refusedAt(path: readonly Message[]): number {
  const reply = path[path.length - 1];
  const question = path[path.length - 2];
  return reply?.role === "assistant" && reply.status === "error" && reply.error?.name === "ContextBudgetError" && question?.role === "user" ? path.length - 2 : -1;
}

/** The budget the conversation's next request is fitted to (the SDK's rule: window − reserved output − margin). */
function budgetOf(conversation: Conversation): number {
  try {
    return conversation.fit().budget;
  } catch (error) {
    if (error instanceof ContextBudgetError) return error.available;
    throw error;
  }
}

const hasDraft = (draft: Draft) => draft.text.trim() !== "" || draft.image !== undefined;

export function nextRequest(conversation: Conversation, draft: Draft): NextRequest {
  const path = conversation.messages;
  const refused = refusedAt(path);
  const history = refused === -1 ? path : path.slice(0, refused);
  const budget = budgetOf(conversation);
  if (history.length === 0 && !hasDraft(draft)) return { fits: true, tokens: 0, draft: 0, budget, droppedTurns: 0 };
  const preset = Object.hasOwn(MODEL_PRESETS, conversation.model) ? MODEL_PRESETS[conversation.model] : undefined;
  const { text, image } = draft;
  const typed: UserMessage = {
    id: "draft",
    role: "user",
    content: image ? [...(text ? [{ type: "text" as const, text }] : []), image] : text,
    createdAt: 0,
  };
  // The system message goes first, as the conversation sends it (and counts it when fitting).
  const system: FitMessage[] = conversation.system ? [{ role: "system", content: conversation.system }] : [];
  const fit = (last: UserMessage) =>
    fitToContext<FitMessage>([...system, ...history, last], {
      contextWindow: conversation.contextWindow,
      // The same budget the conversation fits to, whatever its reserved output and margin are.
      maxOutputTokens: conversation.contextWindow - budget,
      safetyMargin: 0,
      imagePolicy: preset?.imagePolicy ?? "all",
      maxImages: preset?.maxImages ?? 1,
      ...(preset && { image: preset.image, template: preset.template }),
      scale: { text: conversation.calibration.text, image: conversation.calibration.image },
    });
  try {
    const withDraft = fit(typed);
    const without = hasDraft(draft) ? fit({ ...typed, content: "" }).tokens : withDraft.tokens;
    return { fits: true, tokens: withDraft.tokens, draft: Math.max(0, withDraft.tokens - without), budget, droppedTurns: withDraft.droppedTurns };
  } catch (error) {
    if (error instanceof ContextBudgetError) return { fits: false, needed: error.needed, budget: error.available };
    throw error;
  }
}
