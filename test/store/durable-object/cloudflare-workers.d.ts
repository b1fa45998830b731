// The one workerd module the test Worker imports, typed as far as it uses it (no @cloudflare/workers-types here).
declare module "cloudflare:workers" {
  import type { DurableObjectStorageLike } from "../../../src/store/durable-object/types.ts";

  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: { readonly storage: DurableObjectStorageLike };
    protected readonly env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
