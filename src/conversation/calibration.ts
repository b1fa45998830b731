import type { Calibration } from "../messages/calibration.js";

// Bounds: the estimator is within a few percent on real text, so a factor far from 1 means a server that
// counts differently (a longer template, images priced otherwise); beyond these, something else is wrong.
const TEXT_BOUNDS = [0.75, 1.5] as const;
const IMAGE_BOUNDS = [0, 1.25] as const;
const RATE = 0.5;

const clamp = (x: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, x));

/**
 * Fold in one observation: the raw (unscaled) estimate of exactly what was sent, split into text and
 * image tokens, and what the server counted.
 */
export function calibrate(current: Calibration, estimate: { text: number; image: number }, promptTokens: number): Calibration {
  if (!(promptTokens > 0) || !(estimate.text > 0)) return current;
  if (estimate.image === 0) {
    const ratio = promptTokens / estimate.text;
    return { ...current, text: clamp(current.text + RATE * (ratio - current.text), TEXT_BOUNDS), samples: current.samples + 1 };
  }
  // With images, attribute to them what the text (at the current factor) does not explain.
  const ratio = (promptTokens - estimate.text * current.text) / estimate.image;
  return { ...current, image: clamp(current.image + RATE * (ratio - current.image), IMAGE_BOUNDS), samples: current.samples + 1 };
}

/** After a context-length error: make sure the factor explains at least what the server counted. */
export function raiseTo(current: Calibration, estimate: { text: number; image: number }, serverTokens: number): Calibration {
  const scaled = estimate.text * current.text + estimate.image * current.image;
  if (!(serverTokens > scaled) || !(estimate.text > 0)) return current;
  const needed = (serverTokens * 1.02 - estimate.image * current.image) / estimate.text;
  // Bounded like any other correction: a server whose count is far off ours is not one to chase.
  return { ...current, text: Math.max(current.text, Math.min(needed, TEXT_BOUNDS[1])) };
}
