// A runtime the suite needs is missing: one failing test that says exactly what to install. Never a silent
// green, and never a skip: a suite that did not run must not look like one that passed.
import { it } from "vitest";

/** True when `problem` is undefined. Otherwise registers one failing test with the install line and returns false. */
export function runtimeAvailable(runtime: string, problem: string | undefined, install: string): boolean {
  if (problem === undefined) return true;
  it(`${runtime} is installed`, () => {
    throw new Error(`${runtime} is not available: ${problem}. To install it: ${install}`);
  });
  return false;
}
