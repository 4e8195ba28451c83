const REASONS: Record<string, string> = {
  ENOTFOUND: 'the name does not resolve',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed'
}

/** One short phrase for a failed `fetch`: a timeout, or the system error code with its meaning. */
export function describeFetchError (err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string, message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  const code = e?.cause?.code
  if (code !== undefined) return REASONS[code] !== undefined ? `${REASONS[code]} (${code})` : code
  return e?.cause?.message ?? e?.message ?? String(err)
}
