import type { CliEvent, CliResult } from '../providers/events.ts'
import type { RunOutcome } from '../providers/runner.ts'
import { BOUNDARY } from '../secret-mask.ts'
import type { SecretMask } from '../secret-mask.ts'
import type { CliExecutor } from '../providers/cli-executor.ts'

/**
 * The agent can read ductor's secrets (its environment holds the admin token by design, and it may
 * read files) and may echo them. Every CLI run goes through here, so whatever the agent says is
 * masked before any sink sees it: the streamed deltas, tool summaries and status lines, the final
 * reply and the error texts. Telegram, the admin API (JSON and SSE), automation deliveries and the
 * run history all receive the masked text (ADR 0007).
 *
 * A secret split over two deltas, by whitespace or Markdown (src/secret-mask.ts), or by a tool call
 * between two text blocks is masked too: while the text stream holds back a tail that could start a
 * secret, the events after it wait behind it, and go out in their order once the next text shows
 * what the tail was. The final reply (Claude's repeats the last text block) is masked as the
 * continuation of what streamed before it.
 */
export function maskingExecutor (inner: CliExecutor, secrets: SecretMask): CliExecutor {
  return {
    async execute (req) {
      const text = secrets.streamMasker()
      const thinking = secrets.streamMasker()
      /** Events waiting behind the text's held-back tail, one per BOUNDARY it holds. */
      const waiting: CliEvent[] = []
      /** The raw text streamed so far, a BOUNDARY where something else came in between. */
      let raw = ''
      const emitText = (out: string): void => {
        const pieces = out.split(BOUNDARY)
        for (const [i, piece] of pieces.entries()) {
          if (i > 0) {
            const event = waiting.shift()
            if (event !== undefined) req.onEvent(event)
          }
          if (piece !== '') req.onEvent({ type: 'text', text: piece })
        }
      }
      /** Passes `event` on, or has it wait behind the held-back text. */
      const other = (event: CliEvent): void => {
        if (!raw.endsWith(BOUNDARY)) raw += BOUNDARY
        if (text.boundary()) waiting.push(event)
        else req.onEvent(event)
      }
      const flushThinking = (): void => {
        const th = thinking.flush()
        if (th !== '') other({ type: 'thinking', text: th })
      }
      const flush = (): void => {
        flushThinking()
        emitText(text.flush())
        for (const event of waiting.splice(0)) req.onEvent(event)
      }
      const onEvent = (event: CliEvent): void => {
        switch (event.type) {
          case 'text':
            flushThinking()
            raw += event.text.replaceAll(BOUNDARY, '')
            emitText(text.push(event.text))
            return
          case 'thinking': {
            const out = thinking.push(event.text)
            if (out !== '') other({ type: 'thinking', text: out })
            return
          }
          case 'tool':
            flushThinking()
            other({ ...event, summary: secrets.mask(event.summary) })
            return
          case 'status':
            flushThinking()
            other({ ...event, status: secrets.mask(event.status) })
            return
          case 'result':
            flush()
            req.onEvent({ type: 'result', result: maskResult(event.result, secrets, raw) })
            return
          default:
            flushThinking()
            other(event)
        }
      }
      const outcome = await inner.execute({ ...req, onEvent })
      flush()
      return maskOutcome(outcome, secrets, raw)
    }
  }
}

function maskOutcome (outcome: RunOutcome, secrets: SecretMask, raw: string): RunOutcome {
  const { result } = outcome
  return {
    ...outcome,
    result: result === null ? null : maskResult(result, secrets, raw),
    stderrTail: secrets.mask(outcome.stderrTail),
    ...(outcome.userMessage === undefined ? {} : { userMessage: secrets.mask(outcome.userMessage) })
  }
}

/** The result, its text masked as the end of what streamed (`raw`) when it repeats that end. */
function maskResult (result: CliResult, secrets: SecretMask, raw: string): CliResult {
  const before = result.text !== '' && raw.endsWith(result.text) ? raw.slice(0, raw.length - result.text.length) : ''
  return { ...result, text: secrets.maskAfter(before, result.text), ...(result.errorMessage !== undefined ? { errorMessage: secrets.mask(result.errorMessage) } : {}) }
}
