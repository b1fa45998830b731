export declare const ROOT: string;
export declare const CACHE: string;

export interface PackedPackage {
  /** Hash of what npm pack ships; names the cache directory. */
  hash: string;
  dir: string;
  /** The `npm pack` tarball. */
  tarball: string;
  /** A consumer project: package.json (type module) and node_modules with the package and its dependencies. */
  consumer: string;
  /** `<consumer>/node_modules/edgechat`: the unpacked tarball. */
  packageDir: string;
  /** `<consumer>/node_modules/edgechat-copy`: the same tarball installed a second time (a second copy of the package). */
  copyDir: string;
  name: string;
  version: string;
  /** Paths in the tarball, as npm pack lists them. */
  files: string[];
  /** The packed package.json. */
  manifest: {
    name: string;
    exports: Record<string, string | Record<string, string>>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    [field: string]: unknown;
  };
  /** Whether dist/ had to be rebuilt first. */
  rebuilt: boolean;
}

export declare function walk(dir: string): string[];
export declare function preparePackage(): Promise<PackedPackage>;
export declare function resolveExport(packageDir: string, subpath: string, conditions: string[]): string;
