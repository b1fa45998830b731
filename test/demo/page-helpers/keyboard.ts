// Moving through the demo page with the keyboard only, as a user without a mouse would.
import type { Page } from "playwright-core";

/** Press Tab (or `key`) until `selector` has the focus; fails if it is not reached in 60 presses. */
export async function tabTo(page: Page, selector: string, key = "Tab"): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    await page.keyboard.press(key);
  }
  throw new Error(`${selector} is not reachable with ${key}`);
}

/** Press Tab `presses` times; the focus stops that fell inside `inside`, described. */
export async function tabStops(page: Page, presses: number, inside: string, key = "Tab"): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press(key);
    const stop = await page.evaluate((sel) => {
      const el = document.activeElement;
      return el && document.querySelector(sel)!.contains(el) ? `${el.tagName.toLowerCase()}.${el.className} ${el.getAttribute("aria-label") ?? el.textContent?.trim().slice(0, 30)}` : undefined;
    }, inside);
    if (stop) stops.push(stop);
  }
  return stops;
}
