// For test/tsconfig.json (Node types) only: the Deno API kv_test.ts uses. `deno test` never loads this file
// (nothing imports it) and type-checks kv_test.ts against Deno's own, complete types, a real `Deno.Kv` included.
declare namespace Deno {
  type KvLike = import("../../../src/store/deno-kv/types.ts").DenoKvLike;
  type KvEntry<T> = import("../../../src/store/deno-kv/types.ts").KvEntry<T>;
  interface Kv extends KvLike {
    close(): void;
  }
  const args: string[];
  function test(name: string, fn: () => Promise<void>): void;
  function openKv(path?: string): Promise<Kv>;
}
