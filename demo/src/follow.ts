// Following the newest message in a scrolling list. At the bottom, the view stays there whatever grows (a streamed
// chunk, an image that loads late, the composer growing): a ResizeObserver keeps it there. A scroll upwards — the
// reader's, never content growing — stops following, and "Jump to latest" appears; it, reaching the bottom again,
// or the reader sending something, starts following again.

export interface Follow {
  /** Follow from now on (the reader sent something, or opened a conversation). */
  resume(): void;
  /** Stop following, keeping what is on screen where it is while `change` adds above it (older messages loaded). */
  keepAbove(change: () => void): void;
  /** After a render: to the bottom if following, or the top for a screen that opens at its top (the welcome). */
  settle(atTop: boolean): void;
}

/** Pixels from the bottom within which the view counts as at the bottom. */
const NEAR = 80;

/** `hasContent`: whether there is anything to jump to (no button over the welcome screen). */
export function createFollow(scroller: HTMLElement, content: HTMLElement, jump: HTMLButtonElement | undefined, hasContent: () => boolean): Follow {
  let following = true;
  let lastTop = 0;
  // Until something is shown, the list is at its top: the welcome screen is what a page opens on.
  let atTop = true;
  const distance = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  const showJump = () => {
    if (jump) jump.hidden = following || !hasContent() || distance() < NEAR;
  };
  const toBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
    lastTop = scroller.scrollTop;
  };

  scroller.addEventListener("scroll", () => {
    const top = scroller.scrollTop;
    if (distance() < NEAR) following = true;
    else if (top < lastTop - 1) following = false;
    lastTop = top;
    showJump();
  });
  jump?.addEventListener("click", () => {
    following = true;
    toBottom();
    showJump();
  });
  const keep = () => {
    if (atTop) return;
    if (following) toBottom();
    showJump();
  };
  new ResizeObserver(keep).observe(content);
  new ResizeObserver(keep).observe(scroller);

  return {
    resume() {
      following = true;
    },
    keepAbove(change) {
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      following = false;
      change();
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      lastTop = scroller.scrollTop;
    },
    settle(top) {
      atTop = top;
      if (top) scroller.scrollTop = 0;
      else if (following) toBottom();
      showJump();
    },
  };
}
