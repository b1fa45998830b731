// Generation ids: 128 random bits, so an id cannot be guessed; base64url, so it sits in a URL path as it is.

const PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newGenerationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Whether `text` has the shape of an id this relay made (any other string names no generation). */
export function isGenerationId(text: string): boolean {
  return PATTERN.test(text);
}

/**
 * What the object keeps of the client's identity: a SHA-256 of it, so storage holds no IP address or origin,
 * and every comparison is between two strings of the same length.
 */
export async function ownerDigest(owner: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`edgechat-relay-owner\n${owner}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
