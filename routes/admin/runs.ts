import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { errorResponses } from './schemas.ts'
import { RunSchema, RunDetailSchema } from '../../src/store/run-history.ts'
import { RunKinds } from '../../src/core/run-log.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'

export const RunListSchema = Type.Object({ runs: Type.Array(RunSchema) })

/** The run history (SPEC §8.2, §10): every chat, cron, webhook and heartbeat run. */
const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { runs } = app.stores
  const { registry } = app.runner

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

  app.get('/runs/:id', {
    schema: {
      summary: 'One run with its reply or error text',
      description: 'The run record plus `reply`: the final text of the run (at most 8,000 characters, secrets masked), null when there was none. `error` holds the error text of a failed or skipped run.',
      tags: ['runs'],
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }) }),
      response: { 200: RunDetailSchema, ...errorResponses }
    }
  }, async (request) => {
    const run = runs.get(request.params.id)
    if (run === undefined) throw new DuctorError(ErrorCodes.notFound, `no run ${request.params.id}; list the runs with: ductor runs`)
    return run
  })

  app.delete('/runs/:id', {
    schema: {
      summary: 'Abort a run in progress',
      description: 'Stops the run\'s CLI (or, for a run still waiting for a slot, the moment it starts) and answers `aborted: true`; the run then ends as `error:aborted`. A record that says `running` although no process of the service runs it (nothing would ever finish it) is closed as `error:interrupted` and the answer is `aborted: false` with that record. 404 for an unknown run, 409 for a run that has already ended.',
      tags: ['runs'],
      params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }) }),
      response: { 200: Type.Object({ aborted: Type.Boolean(), run: RunSchema }), ...errorResponses }
    }
  }, async (request) => {
    const run = runs.get(request.params.id)
    if (run === undefined) throw new DuctorError(ErrorCodes.notFound, `no run ${request.params.id}`)
    if (run.status !== 'running') throw new DuctorError(ErrorCodes.conflict, `run ${run.id} is not running (status ${run.status})`)
    const aborted = await registry.abortRun(run.id, 'user', { beforeStart: true })
    if (aborted) return { aborted, run: runs.get(run.id) ?? run }
    // Recorded as running, yet no process of this service runs it and none is about to: nothing will
    // ever finish the record, so it is closed now and the answer says nothing was stopped.
    const closed = await runs.interrupt(run.id, 'no process of the service was running it; recorded as interrupted when it was asked to stop')
    return { aborted: false, run: closed ?? run }
  })
}

export default runRoutes
