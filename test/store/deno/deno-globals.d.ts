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
  const stdin: { readable: ReadableStream<Uint8Array<ArrayBuffer>> };
  interface ChildProcess {
    stdin: WritableStream<Uint8Array>;
    stdout: ReadableStream<Uint8Array<ArrayBuffer>>;
    status: Promise<{ success: boolean; code: number }>;
    kill(signal?: string): void;
  }
  class Command {
    constructor(command: string, options: { args: string[]; stdin?: "piped"; stdout?: "piped"; stderr?: "inherit" });
    spawn(): ChildProcess;
  }
  function serve(options: { hostname: string; port: number; onListen(): void }, handler: (request: Request) => Response | Promise<Response>): { addr: { port: number }; shutdown(): Promise<void> };
}
