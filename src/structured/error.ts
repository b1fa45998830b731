import { ValidationError } from "../errors/validation.js";

/**
 * A reply that is not a JSON value of the schema: not JSON (the message begins "Invalid JSON"), or JSON the schema
 * rejects ("Invalid reply value: items[2].price: …"). A `ValidationError` (`path`, `issues`) that also holds what
 * the model wrote, `text`.
 */
export class ObjectValidationError extends ValidationError {
  static override readonly kind: string = "ObjectValidationError";
  /** The reply's whole text. */
  declare readonly text: string;

  /** `error`, same message and issues, with the reply's `text`. */
  constructor(error: ValidationError, text: string) {
    super("", error.issues, { cause: error });
    this.message = error.message;
    this.text = text;
  }
}
