// A runtime the suite needs is missing: on a developer's machine, skip and say exactly what to install;
// under CI (CI=true) fail instead, so a missing runtime is never a silent green.
import { it } from "vitest";

export const CI = process.env.CI !== undefined && !["", "0", "false"].includes(process.env.CI.toLowerCase());

/** True when `problem` is undefined. Otherwise registers one failing (CI) or skipped (local) test and returns false. */
export function runtimeAvailable(runtime: string, problem: string | undefined, install: string): boolean {
  if (problem === undefined) return true;
  const message = `${runtime} is not available: ${problem}. To install it: ${install}`;
  if (CI) {
    it(`${runtime} is installed`, () => {
      throw new Error(`${message}\n(CI is set: a missing runtime fails the suite instead of skipping it.)`);
    });
  } else {
    console.warn(`\n⚠ ${message}\n  The ${runtime} suite is skipped on this machine; under CI=true it would fail.\n`);
    it.skip(`${runtime} suite (skipped: ${message})`, () => {});
  }
  return false;
}
