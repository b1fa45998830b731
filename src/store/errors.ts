import { EdgeChatError } from "../errors/base.js";

/** A store could not read or write. Nothing was changed by the failed call; it can be retried. */
export class StorageError extends EdgeChatError {
  static override readonly kind: string = "StorageError";
}

/** The disk (or the origin's storage quota) is full. */
export class StorageQuotaError extends StorageError {
  static override readonly kind: string = "StorageQuotaError";
  constructor(options?: { cause?: unknown }) {
    super("Storage is full: free some space (delete old conversations) and try again; nothing was lost from this page", options);
  }
}

/** The store has no conversation with that id. */
export class ConversationNotFoundError extends StorageError {
  static override readonly kind: string = "ConversationNotFoundError";
  readonly id: string;
  constructor(id: string) {
    super(`No conversation with id "${id}"`);
    this.id = id;
  }
}

/** A conversation id the store holds already (create, import). */
export const conversationExists = (id: string): StorageError => new StorageError(`A conversation with id "${id}" already exists`);

/** A message id the conversation holds already (append). */
export const messageExists = (id: string): StorageError => new StorageError(`Message "${id}" is already stored`);
