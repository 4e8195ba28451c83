import type { ApprovalAction, ApprovalOutcome, ApprovalRequest } from '../core/approvals.ts'
import { outcomeText } from '../core/approvals.ts'
import type { InlineButton } from './format/markers.ts'

/**
 * The Telegram message of a tool request (docs/approvals.md): the tool, what it will do, and four
 * buttons. The callback data names the request by its 128-bit id and one letter for the action.
 */
export const APPROVAL_PREFIX = 'ap:'
const LETTERS: Record<ApprovalAction, string> = { allow: 'a', always: 'A', deny: 'd', stop: 's' }

export function parseApprovalData (data: string): { id: string, action: ApprovalAction } | null {
  const match = /^ap:([0-9a-f]{32}):([aAds])$/.exec(data)
  if (match === null) return null
  const action = (Object.keys(LETTERS) as ApprovalAction[]).find((a) => LETTERS[a] === match[2])
  return action === undefined ? null : { id: match[1] ?? '', action }
}

export function approvalButtons (id: string): InlineButton[][] {
  const data = (action: ApprovalAction): string => `${APPROVAL_PREFIX}${id}:${LETTERS[action]}`
  return [
    [{ text: '✅ Allow once', callback_data: data('allow') }, { text: '♾ Always allow this', callback_data: data('always') }],
    [{ text: '🚫 Deny', callback_data: data('deny') }, { text: '⛔ Deny and stop', callback_data: data('stop') }]
  ]
}

/** The request as Markdown; `mask` removes every live secret. */
export function approvalMarkdown (request: ApprovalRequest, mask: (text: string) => string, timeoutSeconds: number): string {
  const name = request.source.title ?? request.source.ref ?? ''
  const from = request.source.kind === 'cron'
    ? `the cron job "${name}"`
    : request.source.kind === 'webhook' ? `the webhook "${name}"` : request.source.kind === 'heartbeat' ? 'the heartbeat' : 'your message'
  return [
    `🔐 **Approve?** ${request.summary.title} (\`${request.tool}\`)`,
    '',
    fence(mask(request.summary.detail)),
    '',
    `_For ${from}. No answer within ${timeoutSeconds} s denies it._`
  ].join('\n')
}

/** The same message once settled: the request, then what happened. No buttons. */
export function settledMarkdown (request: ApprovalRequest, outcome: ApprovalOutcome, by: string | null, mask: (text: string) => string, timeoutSeconds: number): string {
  const who = by !== null && by.startsWith('telegram:') ? ' (in Telegram)' : by === 'api' ? ' (through the admin API)' : ''
  const mark = outcome === 'allowed' || outcome === 'always' ? '✅' : '🚫'
  return [
    `🔐 ${request.summary.title} (\`${request.tool}\`)`,
    '',
    fence(mask(request.summary.detail)),
    '',
    `${mark} ${outcomeText(outcome, timeoutSeconds)}${who}`
  ].join('\n')
}

function fence (text: string): string {
  return '```\n' + text.replace(/```/g, '`\u200b``') + '\n```'
}
