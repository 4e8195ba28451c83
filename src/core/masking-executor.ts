import type { CliEvent, CliResult } from '../providers/events.ts'
import type { RunOutcome } from '../providers/runner.ts'
import type { SecretMask } from '../secret-mask.ts'
import type { CliExecutor } from '../providers/cli-executor.ts'

/**
 * The agent can read ductor's secrets (its environment holds the admin token by design, and it may
 * read files) and may echo them. Every CLI run goes through here, so whatever the agent says is
 * masked before any sink sees it: the streamed deltas (a secret split over two deltas included),
 * tool summaries and status lines, the final reply and the error texts. Telegram, the admin API
 * (JSON and SSE), automation deliveries and the run history all receive the masked text (ADR 0007).
 */
export function maskingExecutor (inner: CliExecutor, secrets: SecretMask): CliExecutor {
  return {
    async execute (req) {
      const text = secrets.streamMasker()
      const thinking = secrets.streamMasker()
      // What a stream held back goes out before anything else does, so the order is kept.
      const flushText = (): void => {
        const t = text.flush()
        if (t !== '') req.onEvent({ type: 'text', text: t })
      }
      const flushThinking = (): void => {
        const th = thinking.flush()
        if (th !== '') req.onEvent({ type: 'thinking', text: th })
      }
      const flush = (): void => { flushThinking(); flushText() }
      const onEvent = (event: CliEvent): void => {
        switch (event.type) {
          case 'text': {
            flushThinking()
            const out = text.push(event.text)
            if (out !== '') req.onEvent({ type: 'text', text: out })
            return
          }
          case 'thinking': {
            flushText()
            const out = thinking.push(event.text)
            if (out !== '') req.onEvent({ type: 'thinking', text: out })
            return
          }
          case 'tool':
            flush()
            req.onEvent({ ...event, summary: secrets.mask(event.summary) })
            return
          case 'status':
            flush()
            req.onEvent({ ...event, status: secrets.mask(event.status) })
            return
          case 'result':
            flush()
            req.onEvent({ type: 'result', result: maskResult(event.result, secrets) })
            return
          default:
            req.onEvent(event)
        }
      }
      const outcome = await inner.execute({ ...req, onEvent })
      flush()
      return maskOutcome(outcome, secrets)
    }
  }
}

function maskOutcome (outcome: RunOutcome, secrets: SecretMask): RunOutcome {
  const { result } = outcome
  return {
    ...outcome,
    result: result === null ? null : maskResult(result, secrets),
    stderrTail: secrets.mask(outcome.stderrTail),
    ...(outcome.userMessage === undefined ? {} : { userMessage: secrets.mask(outcome.userMessage) })
  }
}

function maskResult (result: CliResult, secrets: SecretMask): CliResult {
  return { ...result, text: secrets.mask(result.text), ...(result.errorMessage !== undefined ? { errorMessage: secrets.mask(result.errorMessage) } : {}) }
}
