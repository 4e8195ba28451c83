import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, testConfig } from '../helper.ts'

const DAY = 86_400_000

test('the daily cleanup runs from the loop on the home\'s telegram_files and output_to_user', async (t) => {
  let now = Date.parse('2026-06-15T02:30:00Z')
  const config = testConfig({ user_timezone: 'UTC', cleanup: { enabled: true, check_hour: 3, telegram_files_days: 30, output_to_user_days: 7 } })
  const { app, paths } = await build(t, { config, clock: { now: () => now } })
  const age = async (path: string, days: number): Promise<void> => {
    await writeFile(path, 'x')
    const when = new Date(now - days * DAY)
    await utimes(path, when, when)
  }
  await mkdir(join(paths.telegramFiles, '2026-05-01'), { recursive: true })
  await mkdir(paths.outputToUser, { recursive: true })
  await age(join(paths.telegramFiles, '2026-05-01', 'photo.jpg'), 45)
  await age(join(paths.outputToUser, 'old.pdf'), 8)
  await age(join(paths.outputToUser, 'new.pdf'), 6)

  assert.equal((await app.automation.scheduler.tick()).cleanup, false, 'before check_hour')
  now = Date.parse('2026-06-15T03:00:01Z')
  assert.equal((await app.automation.scheduler.tick()).cleanup, true)
  await app.automation.scheduler.idle()
  assert.deepEqual(await readdir(paths.telegramFiles), [], 'the emptied day folder went too')
  assert.deepEqual(await readdir(paths.outputToUser), ['new.pdf'])
})

test('nothing ticks until startAutomation; closing the app stops the loop', async (t) => {
  const { app } = await build(t, { config: testConfig({ user_timezone: 'UTC' }) })
  assert.equal(app.automation.scheduler.started, false, 'building the app starts no timer')
  app.automation.scheduler.start()
  assert.equal(app.automation.scheduler.started, true)
  assert.deepEqual(app.automation.dependencies.depths(), {})
  assert.deepEqual(app.automation.cron.upcoming(5), [])
  await app.close()
  assert.equal(app.automation.scheduler.started, false)
})
