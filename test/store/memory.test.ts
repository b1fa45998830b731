import { it } from "vitest";
import { ValidationError } from "../../src/errors/validation.ts";
import { ConversationNotFoundError, StorageError } from "../../src/store/errors.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { storeContract } from "./contract.ts";

storeContract({ define: it, makeStore: createMemoryStore, errors: { ValidationError, StorageError, ConversationNotFoundError } });
