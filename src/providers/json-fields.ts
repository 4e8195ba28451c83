/** Tolerant field readers for CLI JSON: a missing or mistyped field is undefined, never a throw. */

export type JsonObject = Record<string, unknown>

export function asObject (value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as JsonObject : undefined
}

export function asString (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function asNumber (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function asArray (value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined
}
