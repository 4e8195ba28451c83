/**
 * What the core records about each run (SPEC §8.2, §10). The core declares it; the run history in
 * `src/store/run-history.ts` implements it (and adds reading for the admin API).
 */
import type { ProviderName } from '../models.ts'

export const RunKinds = ['chat', 'cron', 'webhook', 'heartbeat'] as const
export type RunKind = typeof RunKinds[number]

export type RunEndStatus = 'success' | `error:${string}` | `skipped:${string}`

export interface RunStart {
  /** Given by the caller (e.g. the run registry), or generated. */
  id?: string
  kind: RunKind
  ref?: string | null
  chat_id?: number | string | null
  provider?: ProviderName | null
  model?: string | null
  started_at?: string
}

export interface RunEnd {
  status: RunEndStatus
  ended_at?: string
  cost_usd?: number | null
  tokens?: number | null
  error?: string | null
  /** The final reply, when there is one (the history keeps it bounded and masked). */
  reply?: string | null
  provider?: ProviderName | null
  model?: string | null
}

export interface RunLog {
  /** Records a run as `running`; resolves once it is on disk. */
  start: (input: RunStart) => Promise<{ id: string }>
  /** Records how a run ended. Unknown ids and runs that already ended are left as they are. */
  finish: (id: string, end: RunEnd) => Promise<unknown>
  /** Records a run that started and ended at once (e.g. `skipped:quiet_hours`). */
  record: (input: RunStart & RunEnd) => Promise<{ id: string }>
}
