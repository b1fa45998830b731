// What the demo Worker says about itself: `GET /v1/openai/info`.

export interface ServerInfo {
  /** `server`: the proxy forwards to a server of your own (UPSTREAM_URL), e.g. llama.cpp's, without a key. */
  mode: "simulated" | "deepinfra" | "server";
  models: string[];
  defaultModel: string;
  contextWindow: number;
  contextWindows: Record<string, number>;
  maxTokens: number;
  rateLimit: { requests: number; windowSeconds: number };
  simulated?: { tokensPerSecond: number; commands: { name: string; summary: string }[] };
}

/** The API's base URL: the page's own origin (the dev server proxies it to the Worker) unless built with VITE_EDGECHAT_API. */
export function apiBaseURL(): string {
  const configured = import.meta.env.VITE_EDGECHAT_API as string | undefined;
  return new URL(configured || "/v1/openai", location.href).href.replace(/\/+$/, "");
}

export async function loadServerInfo(baseURL: string, signal?: AbortSignal): Promise<ServerInfo> {
  const response = await fetch(`${baseURL}/info`, { headers: { accept: "application/json" }, ...(signal && { signal }) });
  if (!response.ok) throw new Error(`GET ${baseURL}/info answered ${response.status}`);
  const info = (await response.json()) as ServerInfo;
  if (!Array.isArray(info.models) || info.models.length === 0) throw new Error("The server lists no models");
  return info;
}
