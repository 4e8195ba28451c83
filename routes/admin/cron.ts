import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { errorResponses } from './schemas.ts'
import { CronJobSchema, CronJobCreateSchema, CronJobPatchSchema, JOB_ID_PATTERN, type CronJob } from '../../src/automation/cron-schema.ts'
import { checkTaskFolderTarget, createTaskFolder, resolveTaskFolder, TASK_DESCRIPTION_FILE } from '../../src/automation/task-folder.ts'
import { RunListSchema } from './runs.ts'
import { resolveQuietWindow } from '../../src/automation/quiet-hours.ts'
import { cronJobProblem, scheduleProblem } from '../../src/automation/cron-plan.ts'
import { isValidTimezone } from '../../src/tz.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'
import { writeFileAtomic } from '../../src/atomic-json.ts'

const IdParams = Type.Object({ id: Type.String({ pattern: JOB_ID_PATTERN }) })
const TaskDescription = Type.String({ minLength: 1, maxLength: 50_000, description: 'The text of TASK_DESCRIPTION.md: what the task should do' })
const JobView = Type.Object({
  job: CronJobSchema,
  zone: Type.String({ description: 'the time zone the schedule runs in' }),
  next_runs: Type.Array(Type.String(), { description: 'the next five runs (ISO, UTC)' }),
  running: Type.Boolean(),
  quiet_hours: Type.Union([
    Type.Object({
      start: Type.Integer(),
      end: Type.Integer(),
      source: Type.Union([Type.Literal('job'), Type.Literal('cron')], { description: '`job`: its own quiet_start/quiet_end; `cron`: the cron-wide cron.quiet_start/quiet_end of the config' })
    }),
    Type.Null()
  ], { description: 'the quiet window the job is skipped in (local hours, in the user\'s zone), or null: it runs at any hour' }),
  problem: Type.Union([Type.String(), Type.Null()], { description: 'why the job cannot run as written (a bad schedule or time zone, e.g. after a hand edit of cron_jobs.json), or null; such a job has no next runs and never runs until it is fixed' })
})

/** Cron jobs (SPEC §8.2, §10): the same field names as cron_jobs.json; schedules validated with their next runs. */
const cronRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { cron } = app.automation
  const { runs } = app.stores
  const { paths } = app.settings
  const { webhooks } = app
  const quietHours = (job: CronJob) => {
    const window = resolveQuietWindow(job, app.settings.config().cron)
    return window === null ? null : { start: window.start, end: window.end, source: window.source === 'task' ? 'job' as const : 'cron' as const }
  }
  // A job that cannot run as written (a hand-edited schedule or zone) is shown with its problem and no
  // next runs; it never breaks the list of the others.
  const view = (job: CronJob) => {
    const problem = cronJobProblem(job)
    return {
      job,
      zone: problem !== null && job.timezone !== '' && !isValidTimezone(job.timezone) ? job.timezone : cron.zoneOf(job),
      next_runs: job.enabled && problem === null ? cron.nextRuns(job, 5).map((ms) => new Date(ms).toISOString()) : [],
      running: cron.running().includes(job.id),
      quiet_hours: quietHours(job),
      problem
    }
  }
  const find = (id: string): CronJob => {
    const job = cron.store.get(id)
    if (job === undefined) throw new DuctorError(ErrorCodes.notFound, `no cron job "${id}"; list them with GET /api/cron`)
    return job
  }

  app.get('/cron', {
    schema: { summary: 'List cron jobs with their next runs', tags: ['cron'], response: { 200: Type.Object({ jobs: Type.Array(JobView) }), ...errorResponses } }
  }, async () => ({ jobs: cron.store.list().map(view) }))

  app.post('/cron', {
    schema: {
      summary: 'Create a cron job and its task folder',
      description: 'Validates the 5-field schedule and time zone, creates `workspace/cron_tasks/<task_folder>/` with its rule files, `TASK_DESCRIPTION.md` (from `task_description`) and memory file, and answers with the next five runs.',
      tags: ['cron'],
      body: Type.Object({ ...CronJobCreateSchema.properties, task_description: Type.Optional(TaskDescription) }, { additionalProperties: false }),
      response: { 201: JobView, ...errorResponses }
    }
  }, async (request, reply) => {
    const { task_description: description, ...input } = request.body
    cron.nextRuns({ schedule: input.schedule, timezone: input.timezone ?? '' }, 1)
    const job = await cron.store.create(input)
    try {
      await createTaskFolder({ cronTasksDir: paths.cronTasks, name: job.task_folder, title: job.title, description: description ?? (job.description === '' ? job.title : job.description) })
    } catch (err) {
      await cron.store.remove(job.id) // no job without its folder
      throw err
    }
    return await reply.code(201).send(view(job))
  })

  app.get('/cron/:id', {
    schema: { summary: 'One cron job with its next five runs', tags: ['cron'], params: IdParams, response: { 200: JobView, ...errorResponses } }
  }, async (request) => view(find(request.params.id)))

  app.patch('/cron/:id', {
    schema: {
      summary: 'Change a cron job',
      description: '`task_description` rewrites the task\'s TASK_DESCRIPTION.md.',
      tags: ['cron'],
      params: IdParams,
      body: Type.Object({ ...CronJobPatchSchema.properties, task_description: Type.Optional(TaskDescription) }, { additionalProperties: false }),
      response: { 200: JobView, ...errorResponses }
    }
  }, async (request) => {
    const { task_description: description, ...patch } = request.body
    const current = find(request.params.id)
    // Only the fields given are checked: a job with a bad schedule and a bad zone is fixed one field at a time.
    if (patch.schedule !== undefined) {
      const problem = scheduleProblem(patch.schedule)
      if (problem !== null) throw new DuctorError(ErrorCodes.badRequest, problem)
    }
    if (patch.schedule !== undefined || patch.timezone !== undefined) {
      const schedule = patch.schedule ?? current.schedule
      const timezone = patch.timezone ?? current.timezone
      if (scheduleProblem(schedule) === null && (timezone === '' || isValidTimezone(timezone))) cron.nextRuns({ schedule, timezone }, 1)
    }
    // The task folder the job will use is checked before anything is saved (the store checks the
    // rest of the merged job): a bad PATCH answers 400 and leaves cron_jobs.json as it was.
    if (description !== undefined || (patch.task_folder !== undefined && patch.task_folder !== current.task_folder)) {
      await checkTaskFolderTarget(paths.cronTasks, patch.task_folder ?? current.task_folder)
    }
    const job = await cron.store.update(current.id, patch)
    if (description !== undefined || job.task_folder !== current.task_folder) {
      await createTaskFolder({ cronTasksDir: paths.cronTasks, name: job.task_folder, title: job.title, description: description ?? job.description })
      // Temp file + rename: replaces a symlink planted in the folder instead of writing through it.
      if (description !== undefined) await writeFileAtomic(join(await resolveTaskFolder(paths.cronTasks, job.task_folder), TASK_DESCRIPTION_FILE), description.trim() + '\n')
    }
    return view(job)
  })

  app.delete('/cron/:id', {
    schema: {
      summary: 'Delete a cron job (its task folder is kept unless ?delete_folder=true)',
      tags: ['cron'],
      params: IdParams,
      querystring: Type.Object({ delete_folder: Type.Optional(Type.Boolean({ default: false })) }),
      response: { 200: Type.Object({ deleted: Type.Boolean(), folder_deleted: Type.Boolean() }), ...errorResponses }
    }
  }, async (request) => {
    const job = find(request.params.id)
    if (cron.running().includes(job.id)) throw new DuctorError(ErrorCodes.conflict, `cron job "${job.id}" is running; wait for it to finish`)
    await cron.store.remove(job.id)
    let folderDeleted = false
    const shared = cron.store.list().some((other) => other.task_folder === job.task_folder) ||
      webhooks.store.list().some((hook) => hook.mode === 'cron_task' && hook.task_folder === job.task_folder)
    if (request.query.delete_folder === true && !shared) {
      const folder = await resolveTaskFolder(paths.cronTasks, job.task_folder).catch(() => null)
      if (folder !== null) {
        await rm(folder, { recursive: true, force: true })
        folderDeleted = true
      }
    }
    return { deleted: true, folder_deleted: folderDeleted }
  })

  app.post('/cron/:id/run', {
    schema: {
      summary: 'Run a cron job now',
      description: 'Starts the job at once (quiet hours do not apply; its dependency queue does) and answers 202 with the id of its run: `GET /api/runs/:run_id` shows it with its reply once it has started (404 while it still waits for its dependency); it also shows up in GET /api/cron/:id/runs.',
      tags: ['cron'],
      params: IdParams,
      response: { 202: Type.Object({ started: Type.Boolean(), job_id: Type.String(), run_id: Type.String() }), ...errorResponses }
    }
  }, async (request, reply) => {
    const job = find(request.params.id)
    const { runId, done } = cron.runNow(job.id)
    done.catch((err: unknown) => request.log.error({ err, job: job.id }, 'manual cron run failed'))
    return await reply.code(202).send({ started: true, job_id: job.id, run_id: runId })
  })

  app.get('/cron/:id/runs', {
    schema: {
      summary: 'Runs of one cron job, newest first',
      tags: ['cron'],
      params: IdParams,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 20 })) }),
      response: { 200: RunListSchema, ...errorResponses }
    }
  }, async (request) => {
    find(request.params.id)
    return { runs: runs.list({ kind: 'cron', ref: request.params.id, limit: request.query.limit }) }
  })
}

export default cronRoutes
