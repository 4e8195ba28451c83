/**
 * Markers the agent writes into a reply (SPEC §4): `[button:Label]` becomes an inline keyboard
 * button (buttons on the same line share a row), `<file:/absolute/path>` asks for a file to be
 * sent. Both are removed from the text. Markers inside code (fences, indented by a fence, or
 * backtick spans) are text and stay.
 */

export interface InlineButton {
  text: string
  callback_data: string
}

export interface ExtractedMarkers {
  /** The reply without markers; lines that held only markers are removed. */
  text: string
  /** Inline keyboard rows, in order. Empty when there are no buttons. */
  buttons: InlineButton[][]
  /** Absolute paths from `<file:…>` tags, in order, duplicates removed. */
  files: string[]
}

// One space before a marker goes with it, so `Pick one [button:A] [button:B]` leaves `Pick one`.
const markerPattern = / ?(?:\[button:([^\]\n]*)\]|<file:(\/[^>\n]*)>)/g
const fencePattern = /^ {0,3}(`{3,}|~{3,})/

/** Cuts `text` to at most `maxBytes` bytes of UTF-8 without splitting a character. */
export function cutUtf8 (text: string, maxBytes: number): string {
  let bytes = 0
  let out = ''
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8')
    if (bytes + n > maxBytes) break
    bytes += n
    out += ch
  }
  return out
}

/** Telegram's limit for callback_data is 64 bytes. */
export function callbackDataFor (label: string): string {
  return cutUtf8(label, 64)
}

/** Segments of a line that are outside backtick code spans (`[start, end)` pairs). */
function outsideCode (line: string): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let start = 0
  let i = 0
  while (i < line.length) {
    if (line[i] === '\\') { i += 2; continue }
    if (line[i] !== '`') { i++; continue }
    let n = 0
    while (line[i + n] === '`') n++
    const close = findRun(line, i + n, n)
    if (close === -1) { i += n; continue }
    out.push([start, i])
    i = close + n
    start = i
  }
  out.push([start, line.length])
  return out
}

function findRun (line: string, from: number, len: number): number {
  let i = line.indexOf('`', from)
  while (i !== -1) {
    let n = 0
    while (line[i + n] === '`') n++
    if (n === len) return i
    i = line.indexOf('`', i + n)
  }
  return -1
}

/** What reading a reply line by line carries from one line to the next. */
interface LineState {
  fence: { ch: string, len: number } | null
  buttons: InlineButton[][]
  files: string[]
  /** The kept lines so far, joined with newlines. */
  text: string
  lines: number
}

const newLineState = (): LineState => ({ fence: null, buttons: [], files: [], text: '', lines: 0 })

function keep (state: LineState, line: string): void {
  state.text = state.lines === 0 ? line : `${state.text}\n${line}`
  state.lines++
}

function readLine (state: LineState, line: string): void {
  const f = fencePattern.exec(line)
  if (state.fence !== null) {
    if (f !== null && f[1]?.[0] === state.fence.ch && (f[1]?.length ?? 0) >= state.fence.len && line.trim() === f[1]) state.fence = null
    keep(state, line)
    return
  }
  if (f !== null) {
    state.fence = { ch: f[1]?.[0] ?? '`', len: f[1]?.length ?? 3 }
    keep(state, line)
    return
  }
  const row: InlineButton[] = []
  let found = false
  let out = ''
  let last = 0
  for (const [from, to] of outsideCode(line)) {
    const part = line.slice(from, to)
    out += line.slice(last, from)
    out += part.replace(markerPattern, (_m, label: string | undefined, path: string | undefined) => {
      found = true
      if (path !== undefined) {
        if (!state.files.includes(path)) state.files.push(path)
      } else {
        const text = (label ?? '').trim()
        if (text !== '') row.push({ text, callback_data: callbackDataFor(text) })
      }
      return ''
    })
    last = to
  }
  if (row.length > 0) state.buttons.push(row)
  if (!found) keep(state, line)
  else if (out.trim() !== '') keep(state, out.replace(/[ \t]+$/, ''))
}

/** The lines of `text`, with `\r\n` and a lone `\r` taken as line ends. */
function splitLines (text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n')
}

export function extractMarkers (reply: string): ExtractedMarkers {
  const state = newLineState()
  for (const line of splitLines(reply)) readLine(state, line)
  return { text: state.text.trimEnd(), buttons: state.buttons, files: state.files }
}

/** Hides a marker that has begun at the end of the text but not ended yet (`[button:Ye`). */
function hideOpenMarker (text: string): string {
  const lineStart = text.lastIndexOf('\n') + 1
  return text.slice(0, lineStart) + text.slice(lineStart).replace(/(?:\[button:[^\]\n]*|<file:[^>\n]*)$/, '')
}

/**
 * For a reply still streaming: markers removed, and a marker that has begun but not ended yet
 * (`[button:Ye`) hidden, so the live message never flashes marker syntax.
 */
export function stripMarkersLive (partial: string): string {
  return hideOpenMarker(extractMarkers(partial).text).trimEnd()
}

export interface LiveMarkerStripper {
  /** Exactly `stripMarkersLive(partial)`. */
  strip: (partial: string) => string
}

/**
 * `stripMarkersLive` for a reply that only grows: the complete lines read at the last call are not
 * read again, so an edit costs the new text, not the whole reply (docs/benchmarks.md, P3).
 */
export function createLiveMarkerStripper (): LiveMarkerStripper {
  let read = '' // the input up to and including its last newline, already read into `state`
  let state = newLineState()
  return {
    strip (partial) {
      if (!partial.startsWith(read)) { read = ''; state = newLineState() }
      // Cut after a newline only: a "\r\n" is then never split between two reads.
      const cut = partial.lastIndexOf('\n') + 1
      if (cut > read.length) {
        const lines = splitLines(partial.slice(read.length, cut))
        lines.pop() // the empty string after the last newline
        for (const line of lines) readLine(state, line)
        read = partial.slice(0, cut)
      }
      const last = { ...state, buttons: [], files: [] }
      for (const line of splitLines(partial.slice(cut))) readLine(last, line)
      return hideOpenMarker(last.text.trimEnd()).trimEnd()
    }
  }
}

/** `['Bash','Bash','Bash','Read']` → `['[TOOL: Bash] x3', '[TOOL: Read]']`. */
export function collapseToolIndicators (names: readonly string[]): string[] {
  const out: Array<{ name: string, count: number }> = []
  for (const name of names) {
    const last = out[out.length - 1]
    if (last !== undefined && last.name === name) last.count++
    else out.push({ name, count: 1 })
  }
  return out.map(({ name, count }) => count > 1 ? `[TOOL: ${name}] x${count}` : `[TOOL: ${name}]`)
}
