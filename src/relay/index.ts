// edgechat/relay: resumable replies on Cloudflare Durable Objects. A generation runs in its own object, which
// numbers its SSE events, stores them in batches and serves any number of readers; a reader that leaves comes
// back with Last-Event-ID and misses nothing. Exported: the object class to extend, the Worker-side router, the
// caps and how a generation ended, and the structural types of the workerd APIs it uses.
//
// Deliberately not exported: the object's internal wire (paths, headers), the storage layout, the id and owner
// helpers (the relay makes ids; a proxy never needs to), and the client side, which is edgechat's own ChatStream
// (`resumable`, `client.chat.completions.resume`).
export { GenerationRelayObject, type UpstreamCall } from "./object.js";
export { createRelay, type Relay, type RelayOptions, type StartOptions } from "./worker.js";
export { DEFAULT_LIMITS, type RelayLimits } from "./limits.js";
export type { EndReason } from "./ending.js";
export type { RelayNamespaceLike, RelayStateLike, RelayStorageLike, RelayStubLike } from "./types.js";
