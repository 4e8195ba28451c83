import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { errorResponses } from './schemas.ts'
import { HookCreateBody, HookPatchBody, HookTestBody, HookTestResult, HookViewSchema, HookWithTokenSchema } from './webhook-schemas.ts'
import { listenAddress } from '../../src/config.ts'
import type { Hook } from '../../src/webhooks/hook-schema.ts'
import type { HookCreateInput, HookPatch } from '../../src/webhooks/hook-store.ts'
import { applyPatch } from '../../src/webhooks/hook-changes.ts'
import type { WebhookDelivery } from '../../src/webhooks/dispatch.ts'
import { authHelp, replayHelp } from '../../src/webhooks/auth-help.ts'
import { renderHookPrompt, samplePayload } from '../../src/webhooks/template.ts'
import { checkTaskFolderTarget, createTaskFolder, isValidTaskName, resolveTaskFolder, TASK_DESCRIPTION_FILE } from '../../src/automation/task-folder.ts'
import { writeFileAtomic } from '../../src/atomic-json.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** Webhooks (SPEC §9, §10): the same field names as webhooks.json; secrets are write-only (ADR 0005). */
const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { webhooks, inbox } = app
  const { paths, config } = app.settings
  const { store } = webhooks
  // Every webhook route sees hand edits of webhooks.json first.
  app.addHook('preHandler', async () => { await webhooks.refresh() })

  const endpointUrl = (id: string): string => {
    const c = config()
    const publicUrl = c.server.public_url.replace(/\/+$/, '')
    if (publicUrl !== '') return `${publicUrl}/hooks/${id}`
    // The public listener (where /hooks is; the admin API has its own, ADR 14), with the port it got.
    const { host: configured, port } = listenAddress(c)
    const bound = app.server.address()
    const host = configured === '0.0.0.0' ? '127.0.0.1' : configured === '::' ? '::1' : configured
    return `http://${host.includes(':') ? `[${host}]` : host}:${typeof bound === 'object' && bound !== null ? bound.port : port}/hooks/${id}`
  }
  const view = (hook: Readonly<Hook>) => {
    const { token, hmac_secret: secret, ...rest } = hook
    return {
      hook: { ...rest, token_set: token !== '', hmac_secret_set: secret !== '' },
      endpoint_url: endpointUrl(hook.id),
      auth: authHelp(hook),
      replay: replayHelp(hook),
      ingress_enabled: config().webhooks.enabled
    }
  }
  const withToken = (hook: Readonly<Hook>) => ({ ...view(hook), ...(hook.auth_mode === 'bearer' && hook.token !== '' && { token: hook.token }) })
  const find = (id: string): Readonly<Hook> => {
    const hook = store.get(id)
    if (hook === undefined) throw new DuctorError(ErrorCodes.notFound, `no webhook "${id}"; list them with GET /api/webhooks`)
    return hook
  }
  const prepareFolder = async (hook: Readonly<Hook>, description: string | undefined, folderChanged: boolean): Promise<void> => {
    if (hook.mode !== 'cron_task' || hook.task_folder === null) return
    if (description === undefined && !folderChanged) return
    await createTaskFolder({ cronTasksDir: paths.cronTasks, name: hook.task_folder, title: hook.title, description: description ?? (hook.description === '' ? hook.title : hook.description) })
    if (description !== undefined) await writeFileAtomic(join(await resolveTaskFolder(paths.cronTasks, hook.task_folder), TASK_DESCRIPTION_FILE), description.trim() + '\n')
  }
  const checkToken = (token: string | undefined): void => {
    if (token !== undefined && token !== '' && token.length < 16) {
      throw new DuctorError(ErrorCodes.badRequest, 'token must be at least 16 characters, or "" to use the global webhooks.token; leave it out on create to get a generated one')
    }
  }
  const checkFolderName = (mode: unknown, folder: unknown): void => {
    if (mode === 'cron_task' && typeof folder === 'string' && !isValidTaskName(folder)) {
      throw new DuctorError(ErrorCodes.badRequest, 'task_folder is not a valid name; use lowercase letters, digits, - or _')
    }
  }

  app.get('/webhooks', {
    schema: {
      summary: 'List webhooks',
      description: 'Secrets are never shown. `invalid` lists entries of webhooks.json that do not pass the schema (kept in the file, not served).',
      tags: ['webhooks'],
      response: {
        200: Type.Object({
          hooks: Type.Array(HookViewSchema),
          invalid: Type.Array(Type.Object({ index: Type.Integer(), id: Type.Union([Type.String(), Type.Null()]), problems: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })) }))
        }),
        ...errorResponses
      }
    }
  }, async () => ({ hooks: store.list().map(view), invalid: store.invalid().map((e) => ({ ...e, id: e.id ?? null })) }))

  app.post('/webhooks', {
    schema: {
      summary: 'Create a webhook',
      description: 'A bearer hook without `token` gets a generated one, shown in this answer only. `cron_task` hooks get their task folder (with `task_description` as its TASK_DESCRIPTION.md). The answer says where senders POST and how they authenticate.',
      tags: ['webhooks'],
      body: HookCreateBody,
      response: { 201: HookWithTokenSchema, ...errorResponses }
    }
  }, async (request, reply) => {
    const { task_description: description, ...input } = request.body
    checkToken(input.token)
    checkFolderName(input.mode, input.task_folder)
    const hook = await store.create(input as HookCreateInput)
    try {
      await prepareFolder(hook, description, true)
    } catch (err) {
      await store.delete(hook.id).catch(() => {})
      throw err
    }
    request.log.info({ hookId: hook.id, mode: hook.mode, auth: hook.auth_mode }, 'webhook created')
    return await reply.code(201).send(withToken(hook))
  })

  app.get('/webhooks/:id', {
    schema: { summary: 'One webhook', tags: ['webhooks'], params: IdParams, response: { 200: HookViewSchema, ...errorResponses } }
  }, async (request) => view(find(request.params.id)))

  app.patch('/webhooks/:id', {
    schema: {
      summary: 'Change a webhook',
      description: 'Only the fields given change. `task_description` rewrites the task folder\'s TASK_DESCRIPTION.md (cron_task hooks).',
      tags: ['webhooks'],
      params: IdParams,
      body: HookPatchBody,
      response: { 200: HookViewSchema, ...errorResponses }
    }
  }, async (request) => {
    const { task_description: description, ...patch } = request.body
    const current = find(request.params.id)
    checkToken(patch.token)
    // The merged hook is checked whole, its task folder included, before anything is saved: a bad
    // PATCH answers 400 and leaves webhooks.json as it was.
    const merged = applyPatch(current, patch as HookPatch)
    if (merged.mode === 'cron_task' && merged.task_folder !== null) await checkTaskFolderTarget(paths.cronTasks, merged.task_folder)
    const hook = await store.update(current.id, patch as HookPatch)
    await prepareFolder(hook, description, hook.task_folder !== current.task_folder || hook.mode !== current.mode)
    return view(hook)
  })

  app.delete('/webhooks/:id', {
    schema: {
      summary: 'Delete a webhook (its task folder is kept)',
      tags: ['webhooks'],
      params: IdParams,
      response: { 200: Type.Object({ deleted: Type.Boolean(), id: Type.String() }), ...errorResponses }
    }
  }, async (request) => {
    const hook = await store.delete(find(request.params.id).id)
    request.log.info({ hookId: hook.id }, 'webhook deleted')
    return { deleted: true, id: hook.id }
  })

  app.post('/webhooks/:id/rotate-token', {
    schema: {
      summary: 'Give a bearer webhook a new token',
      description: 'The old token stops working at once; the new one is shown in this answer only.',
      tags: ['webhooks'],
      params: IdParams,
      response: { 200: HookWithTokenSchema, ...errorResponses }
    }
  }, async (request) => {
    const hook = await store.rotateToken(find(request.params.id).id)
    request.log.info({ hookId: hook.id }, 'webhook token rotated')
    return withToken(hook)
  })

  app.post('/webhooks/:id/test', {
    schema: {
      summary: 'Send a test delivery',
      description: 'Renders the template with `payload` (default: a sample filling every placeholder) and dispatches it like a real delivery (also when the hook or webhooks are disabled). Answers 202 with the rendered prompt and the delivery id; the run shows up in GET /api/runs?kind=webhook.',
      tags: ['webhooks'],
      params: IdParams,
      body: HookTestBody,
      response: { 202: HookTestResult, ...errorResponses }
    },
    // The body is optional: no body means the default sample payload.
    preValidation: async (request) => { request.body ??= {} }
  }, async (request, reply) => {
    const hook = find(request.params.id)
    const payload = (request.body.payload as Record<string, unknown> | undefined) ?? samplePayload(hook.prompt_template)
    const deliveryId = `test-${randomUUID()}`
    const delivery: WebhookDelivery = { hook_id: hook.id, delivery_id: deliveryId, payload, test: true }
    await inbox.accept('webhook', `${hook.id}:${deliveryId}`, delivery)
    request.log.info({ hookId: hook.id, deliveryId }, 'webhook test delivery accepted')
    return await reply.code(202).send({ accepted: true, hook_id: hook.id, delivery_id: deliveryId, rendered: renderHookPrompt(hook, payload) })
  })
}

export default webhookRoutes
