import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { errorResponses } from './schemas.ts'
import { redactConfig } from '../../src/core/config-update.ts'

const RedactedConfig = Type.Object({}, { additionalProperties: true, description: 'The effective config; every secret reads "[redacted]" (or "" when unset).' })

/** GET/PATCH /api/config (SPEC §10): secrets redacted; changes validated, persisted and applied. */
const configRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/config', {
    schema: { summary: 'The effective configuration, secrets redacted', tags: ['config'], response: { 200: RedactedConfig, ...errorResponses } }
  }, async () => redactConfig(app.settings.config()))

  app.patch('/config', {
    schema: {
      summary: 'Change configuration keys',
      description: 'Merges the body into config/config.json (objects merged, other values replaced), validates it like at startup, writes it atomically and applies what can be applied live. `restart_required` lists the keys that take effect after a restart.',
      tags: ['config'],
      body: Type.Object({}, { additionalProperties: true }),
      response: {
        200: Type.Object({
          config: RedactedConfig,
          changed: Type.Array(Type.String()),
          applied_live: Type.Array(Type.String()),
          restart_required: Type.Array(Type.String()),
          overridden_by_env: Type.Array(Type.String())
        }),
        ...errorResponses
      }
    }
  }, async (request) => {
    const plan = await app.settings.updateConfig(request.body)
    return {
      config: redactConfig(plan.effective),
      changed: plan.changed,
      applied_live: plan.appliedLive,
      restart_required: plan.restartRequired,
      overridden_by_env: plan.overriddenByEnv
    }
  })
}

export default configRoutes
