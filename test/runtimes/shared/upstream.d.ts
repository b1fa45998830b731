export declare const MODEL: string;
export declare const HOLD_MS: number;
export declare const CLOSE_WAIT_MS: number;
export declare const COST: number;
export declare const TOOL_CALL: { readonly id: string; readonly name: string; readonly arguments: string };
export declare const JSON_VALUE: { readonly city: string; readonly temperature: number };
export declare function toolAnswer(result: string): string;

export declare const SSE_SAMPLE: string;
export declare const SSE_SAMPLE_EVENTS: readonly { event: string; data: string; id: string; retry: number | null }[];

export interface Upstream {
  /** A web-standard handler: `Deno.serve(upstream.handle)`, or Node through `serveWeb` (node-server.ts). */
  handle(request: Request): Promise<Response>;
}

export declare function createUpstream(): Upstream;
