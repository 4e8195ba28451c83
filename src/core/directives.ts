import { providerOfModel } from '../models.ts'

/**
 * Leading directives (SPEC §5): `@opus explain this` runs one message with another model; other
 * `@key` / `@key=value` tokens at the start are collected and ignored.
 */
export interface ParsedDirectives {
  /** The message without its leading directives. */
  text: string
  model: string | null
  /** Directives that are not models; kept for the log. */
  ignored: string[]
}

const TOKEN = /^@([A-Za-z0-9][\w.-]*)(?:=(\S*))?(?=\s|$)/

export function parseDirectives (input: string): ParsedDirectives {
  let rest = input.trimStart()
  let model: string | null = null
  const ignored: string[] = []
  for (;;) {
    const m = TOKEN.exec(rest)
    if (m === null) break
    const [whole, key = '', value] = m
    if (value === undefined && model === null && providerOfModel(key) !== null) model = key.toLowerCase()
    else ignored.push(whole)
    rest = rest.slice(whole.length).trimStart()
  }
  return { text: rest, model, ignored }
}
