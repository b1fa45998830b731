import type { ContextLengthError } from "../errors/api.js";
import type { Calibration } from "../messages/calibration.js";
import { raiseTo } from "./calibration.js";

/**
 * What a context-length error teaches: the calibration must explain at least the prompt the server counted,
 * and the window is no larger than the limit it named: a limit that `covers` the prompt alone gets the reply's
 * reserve added back; one that covers prompt plus output (llama.cpp's `n_ctx`, vLLM's) is the window itself. With no numbers at all, a quarter less room than we thought is assumed.
 */
export function learnFromContextError(
  error: ContextLengthError,
  state: { calibration: Calibration; window: number },
  estimate: { text: number; image: number },
  maxOutput: number,
): { calibration: Calibration; window: number } {
  const prompt = error.promptTokens ?? (error.requested === undefined ? undefined : error.covers === "prompt" ? error.requested : error.requested - maxOutput);
  const calibration = prompt !== undefined && prompt > 0 ? raiseTo(state.calibration, estimate, prompt) : state.calibration;
  let window = state.window;
  if (error.limit !== undefined) window = Math.min(window, error.covers === "prompt" ? error.limit + maxOutput : error.limit);
  else if (prompt === undefined) window = Math.floor(window * 0.75);
  return { calibration, window };
}
