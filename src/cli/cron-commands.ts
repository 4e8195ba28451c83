import { Command } from 'commander'
import { connectApi, type ApiClient } from './api-client.ts'
import { describeRun, fetchRun, type RunDetail } from './client-commands.ts'
import { printResult, table, userZone } from './output.ts'
import { details, formatInZone, pickFields } from './flags.ts'
import type { CliIo } from './io.ts'
import { JOB_ID_PATTERN } from '../automation/cron-schema.ts'
import { unusedSettings, type RunSettings } from './task-fit.ts'
import { addCommand, editCommand, halfWindowText, hh, JSON_OPTION, permissionText, pollUntil, providerText, recordPath, RUN_FIELDS, runOptions, showCommand, withWholeWindow, type Opts, type TaskRecords } from './task-options.ts'

/**
 * `ductor cron add|list|show|edit|remove|run`: thin clients of `/api/cron` (SPEC §10), with the
 * flags the agent's tool doc (templates/workspace/tools/cron.md) names. `--json` prints the API's answer.
 */

/** A cron job as the admin API shows it; its run settings as a webhook's. */
interface CronJob extends RunSettings {
  id: string
  title: string
  description: string
  agent_instruction: string
  schedule: string
  task_folder: string
  enabled: boolean
  timezone: string
  last_run_at: string | null
  last_run_status: string | null
  cli_parameters: string[]
  permission_mode?: string | null
}
interface JobView { job: CronJob, zone: string, next_runs: string[], running: boolean, quiet_hours?: { start: number, end: number, source: 'job' | 'cron' } | null, problem?: string | null }

/** Option name (commander's camelCase) → API field. */
const FIELDS = {
  title: 'title',
  schedule: 'schedule',
  timezone: 'timezone',
  description: 'description',
  task: 'task_description',
  instruction: 'agent_instruction',
  taskFolder: 'task_folder',
  enabled: 'enabled',
  ...RUN_FIELDS
}

/** The options `add` and `edit` share. */
function jobOptions (cmd: Command): Command {
  cmd
    .option('--schedule <cron>', '5-field cron expression, e.g. "0 8 * * *" (every day at 08:00)')
    .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Berlin (default: the user\'s)')
    .option('--title <text>', 'the name results are sent under')
    .option('--description <text>', 'one line saying what the job is for')
    .option('--task <text>', 'what the job should do: the text of its TASK_DESCRIPTION.md')
    .option('--instruction <text>', 'the prompt each run starts with (default: carry out TASK_DESCRIPTION.md)')
  return runOptions(cmd, { scope: '', owner: 'job', peers: 'jobs' })
}

function nextRunsText (view: JobView): string {
  if (!view.job.enabled) return 'none (disabled)'
  if (typeof view.problem === 'string') return 'none (see the problem above)'
  return view.next_runs.length === 0 ? 'never' : view.next_runs.map((iso) => formatInZone(iso, view.zone)).join('\n')
}

/** The effective quiet window: where it comes from, or that the job runs at any hour. */
function quietText (view: JobView): string {
  const q = view.quiet_hours
  const { quiet_start: start, quiet_end: end } = view.job
  if ((start === null) !== (end === null) && (q === undefined || q === null)) return `none (runs at any hour): ${halfWindowText(start, end)}`
  if (q === undefined || q === null) return 'none (runs at any hour)'
  const from = q.source === 'job' ? 'the job\'s own' : 'cron-wide, from cron.quiet_start/quiet_end in config.json'
  return `${hh(q.start)}-${hh(q.end)} (${from}; skipped in this window)`
}

const cronJobs: TaskRecords<JobView> = { noun: 'cron job', path: '/cron', idPattern: new RegExp(JOB_ID_PATTERN), list: 'ductor cron list', idHelp: 'the job\'s id', options: jobOptions, fields: { id: 'id', ...FIELDS }, describe, runSettings: (view) => view.job }
const path = (id: string): string => recordPath(cronJobs, id)

function describe (view: JobView): string {
  const { job } = view
  return `${job.id}: ${job.title}\n` + details([
    ...(typeof view.problem === 'string' ? [['PROBLEM', view.problem] as [string, unknown]] : []),
    ['schedule', `${job.schedule} (${view.zone}${job.timezone === '' ? ', the user\'s zone' : ''})`],
    ['enabled', job.enabled ? 'yes' : 'no'],
    ['description', job.description],
    ['folder', `workspace/cron_tasks/${job.task_folder}/`],
    ['instruction', job.agent_instruction],
    ['provider', providerText(job.provider, job.model, job.reasoning_effort)],
    ['cli params', job.cli_parameters],
    ['quiet hours', quietText(view)],
    ['dependency', job.dependency],
    ...unusedSettings(job).map(({ options, why }): [string, unknown] => ['not used', `${options.join(' ')}: ${why}`]),
    ['permissions', permissionText(job.permission_mode ?? null)],
    ['last run', job.last_run_at === null ? null : `${job.last_run_at} ${job.last_run_status ?? ''}`],
    ['running', view.running ? 'yes' : 'no'],
    ['next runs', nextRunsText(view)]
  ])
}

/** Polls until run `runId` of job `id` has ended, then answers it with its reply. */
async function waitForRun (api: ApiClient, id: string, runId: string): Promise<RunDetail> {
  return await pollUntil(async () => {
    const run = await fetchRun(api, runId)
    if (run !== null && run.status !== 'running') return run
    // No record yet: the run waits for its dependency. Once the job no longer runs, a run without a
    // record never started (the service stopped it first).
    if (run === null && !(await api.request<JobView>('GET', path(id))).running && (await fetchRun(api, runId)) === null) {
      throw new Error(`cron job ${id} ended without a recorded run; see the service log`)
    }
    return undefined
  })
}

export function cronCommand (io: CliIo): Command {
  const cron = new Command('cron').description('manage scheduled jobs (cron) through the running service')

  cron.command('list')
    .description('all jobs with their next run and last status')
    .option(...JSON_OPTION)
    .action(async (opts: Opts) => {
      const api = await connectApi(io.env)
      const { jobs } = await api.request<{ jobs: JobView[] }>('GET', '/cron')
      // Like every list: times in the user's zone, named in the header (a job's own zone is its column).
      const zone = opts.json === true ? '' : await userZone(io, api)
      printResult(io, opts, jobs, () => table(jobs.map((v) => ({
        ...v.job,
        on: v.job.enabled ? 'yes' : 'no',
        zone: v.zone,
        next: typeof v.problem === 'string' ? `never: broken (ductor cron show ${v.job.id})` : v.next_runs[0] === undefined ? null : formatInZone(v.next_runs[0], zone),
        last: v.running ? 'running' : v.job.last_run_status
      })), [['id', 'id'], ['schedule', 'schedule'], ['zone', 'schedule zone'], ['on', 'on'], ['next', `next run (${zone})`], ['last', 'last status'], ['title', 'title']]))
    })

  addCommand(cron, io, cronJobs, {
    description: 'create a job and its task folder (then show its next runs)',
    idHelp: 'short name: lower-case letters, digits, - and _ (also the task folder\'s name)',
    extra: (cmd) => cmd.option('--task-folder <name>', 'use this task folder instead of one named after the id'),
    body: (opts) => {
      if (opts['schedule'] === undefined) throw new Error('--schedule is required, e.g. --schedule "0 8 * * *"')
      return withWholeWindow(pickFields(opts, FIELDS))
    }
  })

  showCommand(cron, io, cronJobs, 'one job in detail, with its next five runs')

  editCommand(cron, io, cronJobs, {
    description: 'change a job; only the options given change',
    example: '--schedule "30 7 * * *"',
    body: (opts) => withWholeWindow(pickFields(opts, FIELDS))
  })

  cron.command('remove')
    .description('delete a job (its task folder is kept unless --delete-folder)')
    .argument('<id>', 'the job\'s id')
    .option('--delete-folder', 'also delete workspace/cron_tasks/<folder>/')
    .option(...JSON_OPTION)
    .action(async (id: string, opts: Opts) => {
      const answer = await (await connectApi(io.env)).request<{ deleted: boolean, folder_deleted: boolean }>('DELETE', `${path(id)}${opts['deleteFolder'] === true ? '?delete_folder=true' : ''}`)
      printResult(io, opts, answer, () => `Removed cron job ${id}${answer.folder_deleted ? ' and its task folder' : '; its task folder is kept'}.\n`)
    })

  cron.command('run')
    .description('run a job now (quiet hours do not apply)')
    .argument('<id>', 'the job\'s id')
    .option('--wait', 'wait for the run to end and print its status and reply (exit 1 unless it succeeded)')
    .option(...JSON_OPTION)
    .action(async (id: string, opts: Opts) => {
      const api = await connectApi(io.env)
      const started = await api.request<{ started: boolean, job_id: string, run_id: string }>('POST', `${path(id)}/run`)
      if (opts['wait'] !== true) {
        printResult(io, opts, started, () => `Started cron job ${id} (run ${started.run_id}); see it with: ductor runs show ${started.run_id}\n`)
        return
      }
      const run = await waitForRun(api, id, started.run_id)
      const zone = opts['json'] === true ? 'UTC' : await userZone(io, api)
      printResult(io, opts, run, () => `Cron job ${id} finished: ${run.status} (run ${run.id})\n${describeRun(run, zone)}`)
      if (run.status !== 'success') io.exitCode = 1
    })

  return cron
}
