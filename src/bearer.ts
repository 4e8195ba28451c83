/**
 * The token of an `Authorization: Bearer <token>` header, or null. The scheme name is
 * case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER` …); spaces around the token are allowed,
 * one token only. Every bearer check (admin API, webhooks) reads the header through this.
 */
export function bearerToken (header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Bearer +(\S+) *$/i.exec(header)
  return match?.[1] ?? null
}
