// edgechat/relay: resumable replies on Cloudflare Durable Objects. A generation runs in its own object, which
// numbers its SSE events, stores them in batches and serves any number of readers; a reader that leaves comes
// back with Last-Event-ID and misses nothing. Deliberately not exported: the object's internal wire (paths,
// headers), the storage layout, and the id and owner helpers (the relay makes ids; a proxy never needs to).
export { GenerationRelayObject, type UpstreamCall } from "./object.js";
export { createRelay, type Relay, type RelayOptions, type StartOptions } from "./worker.js";
export { DEFAULT_LIMITS, type RelayLimits } from "./limits.js";
export type { EndReason } from "./ending.js";
export type { RelayNamespaceLike, RelayStateLike, RelayStorageLike, RelayStubLike } from "./types.js";
