import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from './schemas.ts'
import { RunSchema, RunKinds } from '../../src/store/run-history.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'

export const RunListSchema = Type.Object({ runs: Type.Array(RunSchema) })

/** The run history (SPEC §8.2, §10): every chat, cron, webhook and heartbeat run. */
const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { runs, registry } = app.core

  app.get('/runs', {
    schema: {
      summary: 'Run history, newest first',
      tags: ['runs'],
      querystring: Type.Object({
        kind: Type.Optional(Type.Union(RunKinds.map((k) => Type.Literal(k)))),
        status: Type.Optional(Type.String({ maxLength: 100, description: 'exact status, or a family: `error`, `skipped`, `success`, `running`' })),
        ref: Type.Optional(Type.String({ maxLength: 200 })),
        chat_id: Type.Optional(Type.String({ maxLength: 64 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 }))
      }, { additionalProperties: false }),
      response: { 200: RunListSchema, ...errorResponses }
    }
  }, async (request) => ({ runs: runs.list(request.query) }))

  app.get('/runs/active', {
    schema: { summary: 'Runs in progress', tags: ['runs'], response: { 200: RunListSchema, ...errorResponses } }
  }, async () => ({ runs: runs.active() }))

  app.delete('/runs/:id', {
    schema: {
      summary: 'Abort a run in progress',
      tags: ['runs'],
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }) }),
      response: { 200: Type.Object({ aborted: Type.Boolean(), run: RunSchema }), ...errorResponses }
    }
  }, async (request) => {
    const run = runs.get(request.params.id)
    if (run === undefined) throw new DuctorError(ErrorCodes.notFound, `no run ${request.params.id}`)
    if (run.status !== 'running') throw new DuctorError(ErrorCodes.conflict, `run ${run.id} is not running (status ${run.status})`)
    const aborted = await registry.abortRun(run.id, 'user', { beforeStart: true })
    return { aborted, run: runs.get(run.id) ?? run }
  })
}

export default runRoutes
