// The token counter's per-conversation correction, as conversations and stores keep it (conversation/calibration.ts
// learns it).
/**
 * Per-conversation correction of the token counter, learned from the server's `usage.prompt_tokens`.
 * `text` multiplies counted text (and template) tokens, `image` multiplies the per-image cost.
 */
export interface Calibration {
  text: number;
  image: number;
  /** Replies it has learned from. */
  samples: number;
}

export const UNCALIBRATED: Calibration = { text: 1, image: 1, samples: 0 };
