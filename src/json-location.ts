/**
 * Where a JSON text stops being JSON, as line and column (1-based), for the one-line errors about a
 * file the user wrote (`config.json`, `cron_jobs.json`, `webhooks.json`; issue 16, ADR 0017).
 * `JSON.parse` names a character offset for most mistakes and none for some (`tru`, a stray word),
 * so a small scanner finds the offset itself; the wording of the problem stays V8's.
 */

import { readFile } from 'node:fs/promises'
import { UserFileError } from './errors.ts'
import { removeOrphanTemps } from './atomic-json.ts'

export interface JsonProblem {
  line: number
  column: number
  /** What is wrong, without V8's "in JSON at position N" tail. */
  message: string
}

/** The syntax problem of `text`, or null when it parses. */
export function jsonProblem (text: string): JsonProblem | null {
  try {
    JSON.parse(text)
    return null
  } catch (err) {
    const raw = (err as Error).message
    const offset = errorOffset(text)
    const { line, column } = lineAndColumn(text, offset)
    let message = raw
      .replace(/ (in JSON )?at position \d+.*$/s, '')
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/^Unexpected end of JSON input$/, 'the text ends too early (a missing } or ] or ")')
    if (message.startsWith('Unexpected token')) message = `unexpected ${offset < text.length ? JSON.stringify(text[offset]) : 'end of the text'}`
    if (text.trim() === '') message = 'the file is empty'
    return { line, column, message }
  }
}

/** `path is not valid JSON: line L, column C: problem` — one line. */
export function describeJsonProblem (path: string, problem: JsonProblem): string {
  return `${path} is not valid JSON: line ${problem.line}, column ${problem.column}: ${problem.message}`
}

function lineAndColumn (text: string, offset: number): { line: number, column: number } {
  let line = 1
  let start = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      start = i + 1
    }
  }
  return { line, column: Math.max(0, offset - start) + 1 }
}

/** The offset of the first character that cannot continue a JSON text (text.length: it ended too early). */
function errorOffset (text: string): number {
  let i = 0
  const fail = (at: number): never => { throw new ScanStop(at) }
  const ws = (): void => { while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++ }
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail(i)
      i++
    }
  }
  const string = (): void => {
    i++ // the opening quote
    for (;;) {
      if (i >= text.length) fail(i)
      const c = text.charCodeAt(i)
      if (c === 34) { i++; return }
      if (c < 32) fail(i)
      if (c === 92) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i)
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else fail(i)
      } else i++
    }
  }
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (m === null) fail(i)
    i += (m as RegExpExecArray)[0].length
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++; ws()
      if (text[i] === '}') { i++; return }
      for (;;) {
        ws()
        if (text[i] !== '"') fail(i)
        string(); ws()
        if (text[i] !== ':') fail(i)
        i++
        value(); ws()
        if (text[i] === ',') { i++; continue }
        if (text[i] === '}') { i++; return }
        fail(i)
      }
    } else if (c === '[') {
      i++; ws()
      if (text[i] === ']') { i++; return }
      for (;;) {
        value(); ws()
        if (text[i] === ',') { i++; continue }
        if (text[i] === ']') { i++; return }
        fail(i)
      }
    } else if (c === '"') string()
    else if (c === 't') literal('true')
    else if (c === 'f') literal('false')
    else if (c === 'n') literal('null')
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number()
    else fail(i)
  }
  try {
    value(); ws()
    return i < text.length ? i : text.length
  } catch (err) {
    if (err instanceof ScanStop) return err.at
    throw err
  }
}

class ScanStop {
  readonly at: number
  constructor (at: number) { this.at = at }
}

export type UserJsonRead =
  | { status: 'missing' }
  | { status: 'ok', value: unknown, text: string }

/**
 * Reads a JSON file the user writes. Missing → `missing`. Text that is not JSON → a UserFileError
 * naming the file, line and column, ending with what happens next (`then`). The file is never touched.
 */
export async function readUserJson (path: string, then = 'ductor left it as it is; fix it and start ductor again'): Promise<UserJsonRead> {
  // Temp files of a writer killed mid-write (the file itself is whole: writes are atomic).
  await removeOrphanTemps(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' }
    throw new UserFileError(path, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const problem = jsonProblem(text)
  if (problem !== null) throw new UserFileError(path, `${describeJsonProblem(path, problem)}; ${then}`)
  return { status: 'ok', value: JSON.parse(text) as unknown, text }
}
