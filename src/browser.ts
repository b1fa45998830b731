// edgechat/browser: what a web page needs, in one self-contained file for pages with no build step
// (dist/browser/edgechat.js, valibot and idb inlined):
//
//   <script type="module">
//     import { Conversation, createClient, createIndexedDBStore } from "https://cdn.jsdelivr.net/npm/edgechat@0.1/dist/browser/edgechat.js";
//   </script>
//
// Everything edgechat and edgechat/idb export, the same classes: one copy of each in the page.
//
// Deliberately not here: the server-side entries (edgechat/durable-object, edgechat/deno-kv, edgechat/relay), the
// SSE parser (edgechat/sse: a page reads streams through the client) and the exact Llama 3 token counter
// (edgechat/tokenizer/llama3: 3 MB). An app with a bundler imports edgechat and edgechat/idb instead, and keeps
// only what it uses.
export * from "./index.js";
export * from "./store/idb/index.js";
