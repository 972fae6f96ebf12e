// Errors of the registry client. One class with a machine-readable `code`, so callers can
// decide between "fail the run now" and "retry later" without parsing messages.

export type RegistryErrorCode =
  | 'unreachable' // connection refused, DNS failure, TLS handshake failure
  | 'timeout'
  | 'unauthorized' // 401/403, or no usable credentials for the challenge
  | 'not_found'
  | 'rate_limited' // 429
  | 'server_error' // 5xx
  | 'digest_mismatch'
  | 'too_large'
  | 'invalid_manifest' // not JSON, not a manifest, or without the expected layer
  | 'invalid_reference'
  | 'unsupported' // 405: the registry does not allow the operation (deletes are off by default)
  | 'protocol'; // any other unexpected answer

export class RegistryError extends Error {
  override readonly name = 'RegistryError';

  constructor(
    message: string,
    readonly code: RegistryErrorCode,
    /** The reference (or repository, or registry) the operation was about. */
    readonly ref: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const RETRYABLE: ReadonlySet<RegistryErrorCode> = new Set(['unreachable', 'timeout', 'rate_limited', 'server_error']);

/** Whether trying again later may succeed: the registry was down or overloaded, not wrong. */
export function isRetryable(err: unknown): boolean {
  return err instanceof RegistryError && RETRYABLE.has(err.code);
}
