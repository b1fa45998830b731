/** Tokens a chat template adds around the content. */
export interface TemplateCost {
  /** Per message: Llama 3 wraps each in `<|start_header_id|>role<|end_header_id|>\n\n … <|eot_id|>` (5 tokens). */
  perMessage: number;
  /**
   * Per request: `<|begin_of_text|>` plus the `<|start_header_id|>assistant<|end_header_id|>\n\n` that opens the
   * reply (5), plus the date preamble Llama 3.2's template puts in the system header (~20).
   */
  perRequest: number;
}

export const LLAMA3_TEMPLATE: TemplateCost = { perMessage: 5, perRequest: 26 };
