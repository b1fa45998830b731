import { EdgeChatError } from "../errors/base.js";

/** A page or a web worker: code whose source every visitor can read. Deno, Workers and Node are not. */
export function isBrowserLike(): boolean {
  const g = globalThis as { document?: unknown; importScripts?: unknown };
  return typeof g.document === "object" || typeof g.importScripts === "function";
}

export class BrowserKeyError extends EdgeChatError {
  static override readonly kind: string = "BrowserKeyError";
  constructor() {
    super(
      "An apiKey in browser code can be read by every visitor of the page. Keep the key on a server or a " +
        "Cloudflare Worker that forwards requests to DeepInfra, and create the client here with " +
        "{ baseURL: 'https://your-proxy.example/v1/openai' } and no apiKey (see the README, 'Keys in the browser'). " +
        "If shipping the key is really what you want (a local tool, a user's own key), pass dangerouslyAllowBrowser: true.",
    );
  }
}
