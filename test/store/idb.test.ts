// The ConversationStore contract against the IndexedDB store, on fake-indexeddb: a fresh database per store.
// IDB-specific behaviour (migrations, images, faults, tabs, paging) is in ./idb/; real Chromium in ./chromium/.
import "fake-indexeddb/auto";
import { it } from "vitest";
import { ValidationError } from "../../src/errors/validation.ts";
import { ConversationNotFoundError, StorageError } from "../../src/store/errors.ts";
import { makeStore } from "./idb/helpers.ts";
import { storeContract } from "./contract.ts";

storeContract({ define: it, makeStore: () => makeStore(), errors: { ValidationError, StorageError, ConversationNotFoundError } });
