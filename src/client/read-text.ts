/** Read at most `limit` characters of a body and cancel the rest: an error body can be arbitrarily large. */
export async function readTextCapped(response: Response, limit: number): Promise<string> {
  const body = response.body;
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
    if (text.length > limit) {
      await reader.cancel().catch(() => {});
      return text.slice(0, limit);
    }
  }
}

/** Remove a secret from text that came back from the server, in case it echoes the request. */
export function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 8 && text.includes(secret) ? text.split(secret).join("[redacted]") : text;
}

export function parseJSONOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
