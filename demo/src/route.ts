// The URL's hash names the open conversation (`#id`; none: a new chat). A link to `#id`, Back and Forward switch
// conversations; what the user chooses on the page is a history entry of its own, what the page shows by itself
// (a conversation just created, one deleted) replaces the current entry.

export interface Route {
  /** The conversation the URL names, if any. */
  current(): string | undefined;
  /** A step the user took (New chat): a new history entry, unless the URL already says so. */
  push(id: string | undefined): void;
  /** What is shown now, without a new history entry. */
  replace(id: string | undefined): void;
}

export function createRoute(onChange: (id: string | undefined) => void): Route {
  const current = () => {
    const raw = location.hash.slice(1);
    if (!raw) return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  };
  const url = (id: string | undefined) => (id === undefined ? location.pathname + location.search : `#${encodeURIComponent(id)}`);
  // A followed link fires hashchange; Back and Forward fire popstate (and hashchange too): the handler takes either.
  addEventListener("hashchange", () => onChange(current()));
  addEventListener("popstate", () => onChange(current()));
  return {
    current,
    push(id) {
      if (current() !== id) history.pushState(null, "", url(id));
    },
    replace(id) {
      if (current() !== id) history.replaceState(null, "", url(id));
    },
  };
}
