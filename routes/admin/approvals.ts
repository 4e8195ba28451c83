import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from 'typebox'
import { Type } from '../../src/schema-type.ts'
import { errorResponses } from './schemas.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'
import { APPROVAL_ACTIONS, type ApprovalRequest } from '../../src/core/approvals.ts'

const Id = Type.String({ pattern: '^[0-9a-f]{32}$' })

const ApprovalSchema = Type.Object({
  id: Type.String(),
  run_id: Type.String(),
  chat_ids: Type.Array(Type.String()),
  source: Type.Object({ kind: Type.String(), ref: Type.Union([Type.String(), Type.Null()]), title: Type.Union([Type.String(), Type.Null()]) }),
  tool: Type.String(),
  input: Type.Record(Type.String(), Type.Unknown()),
  title: Type.String({ description: 'What the tool will do, in a few words' }),
  detail: Type.String({ description: 'The command; the file and a short diff; the URL' }),
  rule: Type.String({ description: 'What "always" would remember' }),
  created_at: Type.String(),
  expires_at: Type.String()
})
export type ApprovalJson = Static<typeof ApprovalSchema>

const Decision = Type.Union([
  Type.Object({ behavior: Type.Literal('allow'), updatedInput: Type.Record(Type.String(), Type.Unknown()) }),
  Type.Object({ behavior: Type.Literal('deny'), message: Type.String(), interrupt: Type.Optional(Type.Boolean()) })
])

const RuleSchema = Type.Object({ id: Type.String(), chat_id: Type.String(), rule: Type.String(), tool: Type.String(), created_at: Type.String() })

/** The request as the admin API and the SSE stream show it, every live secret masked. */
export function approvalJson (request: ApprovalRequest, mask: (text: string) => string): ApprovalJson {
  return {
    id: request.id,
    run_id: request.runId,
    chat_ids: request.chatIds,
    source: request.source,
    tool: request.tool,
    input: JSON.parse(mask(JSON.stringify(request.input))) as Record<string, unknown>,
    title: request.summary.title,
    detail: mask(request.summary.detail),
    rule: mask(request.rule),
    created_at: new Date(request.createdAt).toISOString(),
    expires_at: new Date(request.expiresAt).toISOString()
  }
}

/**
 * Tool approvals (docs/approvals.md): the permission-prompt tool's request (`POST /approvals/ask`,
 * held open until the answer), the pending list, the answer, and the remembered rules.
 */
const approvalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { approvals } = app
  const mask = (text: string): string => app.settings.secrets.mask(text)

  app.post('/approvals/ask', {
    schema: {
      summary: 'Ask the user to approve a tool (used by ductor\'s permission-prompt tool)',
      description: 'Held open until the user answers, the timeout denies, or the run ends. `run_token` is the run\'s own token (`DUCTOR_APPROVAL_RUN`); an unknown one is 404.',
      tags: ['approvals'],
      body: Type.Object({
        run_token: Type.String({ minLength: 1, maxLength: 200 }),
        tool_name: Type.String({ minLength: 1, maxLength: 200 }),
        input: Type.Record(Type.String(), Type.Unknown()),
        tool_use_id: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()]))
      }, { additionalProperties: false }),
      response: { 200: Decision, ...errorResponses }
    }
  }, async (request) => {
    const { run_token: token, tool_name: tool, input } = request.body
    const decision = approvals.ask(token, { tool, input })
    if (decision === null) throw new DuctorError(ErrorCodes.notFound, 'body/run_token: no running run has this token')
    return await decision
  })

  app.get('/approvals', {
    schema: {
      summary: 'List the tool requests waiting for an answer',
      tags: ['approvals'],
      response: { 200: Type.Object({ approvals: Type.Array(ApprovalSchema) }), ...errorResponses }
    }
  }, async () => ({ approvals: approvals.pending().map((r) => approvalJson(r, mask)) }))

  app.post('/approvals/:id', {
    schema: {
      summary: 'Answer a tool request',
      description: '`allow` (once), `always` (and remember a rule for the chat), `deny`, `stop` (deny and stop the run). 404 when the request is unknown, already answered or expired: nothing changes.',
      tags: ['approvals'],
      params: Type.Object({ id: Id }),
      body: Type.Object({ action: Type.Union(APPROVAL_ACTIONS.map((a) => Type.Literal(a))) }, { additionalProperties: false }),
      response: { 200: Type.Object({ id: Type.String(), action: Type.String() }), ...errorResponses }
    }
  }, async (request) => {
    const { id } = request.params
    const { action } = request.body
    const result = approvals.answer(id, action, { via: 'api' })
    if (result === 'unknown') throw new DuctorError(ErrorCodes.notFound, `approval ${id} is not waiting for an answer (unknown, answered or expired)`)
    if (result === 'settled') throw new DuctorError(ErrorCodes.conflict, `approval ${id} expired before the answer: it was denied`)
    return { id, action }
  })

  app.get('/approvals/rules', {
    schema: {
      summary: 'List the remembered "always allow" rules',
      tags: ['approvals'],
      querystring: Type.Object({ chat_id: Type.Optional(Type.String({ pattern: '^-?[A-Za-z0-9_]{1,64}$' })) }),
      response: { 200: Type.Object({ rules: Type.Array(RuleSchema) }), ...errorResponses }
    }
  }, async (request) => ({ rules: approvals.rules(request.query.chat_id).map((r) => ({ ...r, rule: mask(r.rule) })) }))

  app.delete('/approvals/rules/:id', {
    schema: {
      summary: 'Revoke a remembered rule',
      tags: ['approvals'],
      params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{8}$' }) }),
      response: { 200: Type.Object({ revoked: Type.String() }), ...errorResponses }
    }
  }, async (request) => {
    if (!await approvals.revokeRule(request.params.id)) throw new DuctorError(ErrorCodes.notFound, `no rule ${request.params.id}`)
    return { revoked: request.params.id }
  })
}

export default approvalRoutes
