// The one error class of @atmanrl/saliency; every throw carries a stable `code`.

/** Stable error codes of this package. */
export type SaliencyErrorCode =
  | 'BAD_ITEM'
  | 'BAD_OPTION'
  | 'NO_GRADIENTS'
  | 'BAD_ARGUMENT'
  /** A mask-fit loss, θ or statistic H came out NaN/±Infinity (the message names the item). */
  | 'NON_FINITE';

/** Error thrown by @atmanrl/saliency; `code` is stable across versions. */
export class SaliencyError extends Error {
  /** Stable machine-readable code. */
  readonly code: SaliencyErrorCode;

  constructor(code: SaliencyErrorCode, message: string) {
    super(message);
    this.name = 'SaliencyError';
    this.code = code;
  }
}
