// The conversation list as a drawer on narrow screens. Open, it takes the focus (the open conversation, else
// "New chat"), the page behind it is inert (Tab cannot reach it, nor a screen reader), and Escape, the scrim or its
// close button closes it, giving the focus back to the menu button. Closed, the drawer itself is inert: it is off
// screen, so Tab must not wander into it. On wide screens the list is simply part of the page.

export interface Drawer {
  readonly isOpen: boolean;
  /** `focus`: move the focus into the drawer (false when something in it takes the focus itself). */
  open(focus?: boolean): void;
  /** `restoreFocus`: give the focus back to the menu button if it was in the drawer. */
  close(restoreFocus?: boolean): void;
}

export interface DrawerParts {
  drawer: HTMLElement;
  /** What the open drawer covers: made inert while it is open. */
  page: HTMLElement;
  button: HTMLButtonElement;
  scrim: HTMLElement;
  closeButton: HTMLButtonElement;
}

/** Where the list becomes a drawer: the same width as in styles.css. */
export const NARROW = "(max-width: 820px)";

export function createDrawer({ drawer, page, button, scrim, closeButton }: DrawerParts): Drawer {
  const narrow = matchMedia(NARROW);
  let open = false;

  const apply = () => {
    const modal = narrow.matches;
    document.body.classList.toggle("sidebar-open", open && modal);
    button.setAttribute("aria-expanded", String(open && modal));
    page.inert = open && modal;
    drawer.inert = modal && !open;
  };

  const api: Drawer = {
    get isOpen() {
      return open && narrow.matches;
    },
    open(focus = true) {
      if (!narrow.matches) return;
      open = true;
      apply();
      if (focus) (drawer.querySelector<HTMLElement>('[aria-current="page"]') ?? drawer.querySelector<HTMLElement>(".new-chat"))?.focus();
    },
    close(restoreFocus = true) {
      if (!open) return;
      const hadFocus = drawer.contains(document.activeElement);
      open = false;
      apply();
      if (restoreFocus && hadFocus && narrow.matches) button.focus();
    },
  };

  button.addEventListener("click", () => (open ? api.close() : api.open()));
  scrim.addEventListener("click", () => api.close());
  closeButton.addEventListener("click", () => api.close());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && api.isOpen && !event.defaultPrevented) {
      event.preventDefault();
      api.close();
    }
  });
  narrow.addEventListener("change", () => {
    if (!narrow.matches) open = false;
    apply();
  });
  apply();
  return api;
}
