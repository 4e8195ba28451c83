import { UserFileError } from '../errors.ts'
import { packageRoot } from '../ops/service-spec.ts'
import { withoutPackageBins } from '../providers/resolve-binary.ts'
import { runServe } from './supervise.ts'

/** What `ductor serve` asks for, when the arguments are only that; `null` sends them to the full CLI. */
export interface ServeShortcut {
  supervisor: boolean
  verbose: boolean
}

const FLAGS = new Set(['--no-supervisor', '-v', '--verbose'])

/**
 * `serve` followed only by `--no-supervisor`, `-v`/`--verbose`; or no arguments at all when not in
 * a terminal (in a terminal a bare `ductor` may start the setup wizard: the full CLI decides).
 */
export function serveShortcut (args: readonly string[], terminal: boolean): ServeShortcut | null {
  if (args.length === 0) return terminal ? null : { supervisor: true, verbose: false }
  if (args[0] !== 'serve') return null
  const rest = args.slice(1)
  if (!rest.every((a) => FLAGS.has(a))) return null
  return { supervisor: !rest.includes('--no-supervisor'), verbose: rest.includes('-v') || rest.includes('--verbose') }
}

/** `ductor serve` without commander: the same environment and error handling as main() gives it. */
export async function runServeCommand (shortcut: ServeShortcut): Promise<void> {
  // As in main(): under `npm start` PATH begins with node_modules/.bin, whose CLIs are test copies.
  const path = withoutPackageBins(process.env['PATH'], packageRoot())
  if (path !== undefined) process.env['PATH'] = path
  if (shortcut.verbose) process.env['DUCTOR_LOG_LEVEL'] = 'DEBUG'
  try {
    await runServe(shortcut.supervisor)
  } catch (err) {
    process.stderr.write(`ductor: ${(err as Error).message}\n`)
    process.exit(err instanceof UserFileError ? 2 : 1)
  }
}
