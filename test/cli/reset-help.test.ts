import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ductor } from '../helper.ts'

// `ductor reset` hands every argument to `ductor init`; it used to stop the service and move the
// config aside before init looked at them, so `ductor reset --help` (or a typo) did just that.
test('reset --help and reset with a bad option change nothing', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ductor-reset-'))
  t.after(async () => { await rm(home, { recursive: true, force: true }) })
  await mkdir(join(home, 'config'), { recursive: true })
  const config = JSON.stringify({ telegram_token: '', allowed_user_ids: [7] })
  await writeFile(join(home, 'config', 'config.json'), config)
  const env = { DUCTOR_HOME: home, HOME: home }
  const unchanged = async (): Promise<void> => {
    assert.deepEqual(await readdir(join(home, 'config')), ['config.json'])
    assert.equal(await readFile(join(home, 'config', 'config.json'), 'utf8'), config)
  }

  for (const flag of ['--help', '-h']) {
    const help = await ductor(['reset', flag], env)
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /^Usage: ductor reset\|onboarding \[init options\.\.\.\]/)
    assert.match(help.stdout, /The options are those of ductor init:\n\s+--token <token>/)
    assert.ok(!help.stdout.includes('Moved the config'))
    await unchanged()
  }
  const cases: Array<[string[], string]> = [
    [['reset', '--bogus'], 'ductor: unknown option \'--bogus\' for ductor reset, which takes the options of ductor init; nothing was changed (see ductor reset --help)\n'],
    [['onboarding', 'now'], 'ductor: unexpected argument \'now\' for ductor reset, which takes the options of ductor init; nothing was changed (see ductor reset --help)\n'],
    [['reset', '--provider', 'gemini'], 'ductor: option \'--provider <name>\' argument \'gemini\' is invalid. Allowed choices are claude, codex; nothing was changed (see ductor reset --help)\n'],
    [['reset', '--non-interactive', '--token'], 'ductor: option \'--token <token>\' argument missing; nothing was changed (see ductor reset --help)\n']
  ]
  for (const [args, stderr] of cases) {
    const result = await ductor(args, env)
    assert.deepEqual([result.code, result.stderr, result.stdout], [1, stderr, ''], args.join(' '))
    await unchanged()
  }
})
