export declare const ROOT: string;

export interface Snippets {
  streamOne: { edgechat: string; "openai-node": string; "AI SDK": string };
  conversation: string;
  idb: string;
  conversationIdb: string;
  tools: { edgechat: string; "AI SDK": string };
  object: { edgechat: string; "AI SDK": string };
}
export declare const SNIPPETS: Snippets;

/** Budgets in gzip bytes. */
export declare const BUDGETS: { streamOne: number; conversationAdds: number; idb: number; browser: number; toolsAdds: number; objectAdds: number };

export interface Sizes {
  bytes: number;
  gzip: number;
  brotli: number;
}

export interface BundleResult extends Sizes {
  /** Chunks in the initial load. */
  chunks: number;
  /** Chunks behind dynamic imports, when there are any. */
  lazy: (Sizes & { chunks: number }) | undefined;
  /** Contributors to the initial load, ~minified bytes each, largest first. */
  modules: { id: string; minified: number }[];
}

/** "dist", "src", or a directory laid out like dist/. */
export type From = "dist" | "src" | (string & {});

export declare function subpaths(): string[];
export declare function entryFile(subpath: string, from?: From): string | undefined;
export declare function specifiers(from?: From): Map<string, string | undefined>;
export declare function buildLibrary(outDir: string): Promise<string>;
export declare function bundle(code: string, options?: { from?: From; keepExports?: boolean }): Promise<BundleResult>;
/** The browser build's .js files in `<dir>/browser/` (default dist/), as served. */
export declare function browserBuild(dir?: string): Sizes & { files: string[] };
