// Real Chromium for the demo page tests: Debian's /usr/bin/chromium driven by playwright-core (no browser download).
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";
import { describe, it } from "vitest";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Flags that keep Debian's Chromium quiet and offline in a container (RUNTIMES.md).
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Why Chromium cannot run here, or undefined. A missing browser is a failure (never a skip), with the fix in the message. */
export function chromiumProblem(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return (
    `Chromium is not installed at ${CHROMIUM}. Install it with: apt-get install --no-install-recommends chromium ` +
    `(Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary. Playwright's own download (npx playwright install) is not needed.`
  );
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/**
 * `describe` for a suite that needs Chromium. Without it the suite is one failing test that says how to install it:
 * not a skip, with or without CI (the page is the product's first impression and must be tested).
 */
export function describeInChromium(name: string, ...rest: [body: () => void] | [options: { timeout: number }, body: () => void]): void {
  const problem = chromiumProblem();
  if (problem)
    it("Chromium is installed", () => {
      throw new Error(problem);
    });
  else if (rest.length === 1) describe(name, rest[0]);
  else describe(name, ...rest);
}
