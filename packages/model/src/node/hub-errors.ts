// Typed errors of the Hugging Face Hub resolver (hub-cache.ts, resolve-model.ts): one class, a
// stable code per failure kind, and a message that says how to fix it.

/** Stable error codes thrown by the Hub resolver. */
export type HubErrorCode =
  /** The id is not `org/name[@revision]`. */
  | 'BAD_MODEL_ID'
  /** `HF_TOKEN` (or the saved token) is not a Hugging Face access token (`hf_...`). */
  | 'BAD_TOKEN'
  /** The repository or revision does not exist (or is private and no token was given). */
  | 'NOT_FOUND'
  /** A gated repository whose licence this token's account has not accepted (HTTP 401/403). */
  | 'GATED'
  /** `HF_HUB_OFFLINE=1` (or no network) and the cache lacks the model or some of its files. */
  | 'NOT_CACHED'
  /** The repository has no safetensors weights (only `*.bin` / `*.pth`, which are never read). */
  | 'NO_WEIGHTS'
  /** A transfer failed (network, HTTP error); the partial file is kept for the next try. */
  | 'DOWNLOAD_FAILED'
  /** A downloaded file's size or hash differs from what the server announced; it was deleted. */
  | 'HASH_MISMATCH';

/**
 * Error thrown while resolving a Hugging Face Hub model id. The message says what happened and
 * how to fix it; `code` is stable and safe to branch on.
 */
export class HubError extends Error {
  /** Stable code, e.g. `GATED`. */
  readonly code: HubErrorCode;
  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
    this.code = code;
  }
}
