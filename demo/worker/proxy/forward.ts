import { errorResponse } from "./errors.js";

/** Response headers not passed back: hop-by-hop, length/encoding (the runtime sets them), cookies, upstream CORS. */
const DROP =
  /^(connection|keep-alive|transfer-encoding|content-length|content-encoding|set-cookie2?|access-control-.*|alt-svc|strict-transport-security)$/i;
const MAX_ERROR_BODY = 64 * 1024;

/**
 * POST the checked body upstream, with the Worker's token if it has one (a local server needs none). Only what the proxy builds is sent: no header
 * of the browser's (its Authorization, cookies, Origin, Referer) goes upstream. A 2xx body is returned
 * as the same stream, unbuffered and unchanged (SSE stays SSE); an error body is small and read, so that
 * the token can be cut out of it should upstream ever echo it. `signal` (the relay's) aborts the request.
 */
export async function forward(upstreamURL: string, token: string | undefined, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  const headers = new Headers({
    ...(token && { authorization: `Bearer ${token}` }),
    "content-type": "application/json",
    accept: body.stream === true ? "text/event-stream" : "application/json",
  });
  let upstream: Response;
  try {
    upstream = await fetch(`${upstreamURL}/chat/completions`, { method: "POST", headers, body: JSON.stringify(body), ...(signal && { signal }) });
  } catch {
    return errorResponse(502, "server_error", "upstream_unreachable", "The proxy could not reach the model server");
  }
  const out = new Headers();
  upstream.headers.forEach((value, key) => {
    if (!DROP.test(key) && !(token && value.includes(token))) out.set(key, value);
  });
  if (upstream.ok) return new Response(upstream.body, { status: upstream.status, headers: out });
  const text = await readCapped(upstream);
  return new Response(token ? text.split(token).join("[redacted]") : text, { status: upstream.status, headers: out });
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
      if (text.length > MAX_ERROR_BODY) {
        await reader.cancel();
        return text.slice(0, MAX_ERROR_BODY);
      }
    }
  } catch {
    return text;
  }
}
