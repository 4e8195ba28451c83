import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fakeClis, tempDir, testConfig, waitFor, spawnService } from '../helper.ts'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { createJournal } from '../../src/store/journal.ts'
import { homePaths } from '../../src/home/paths.ts'

const CHAT = 111

test('an album still waiting for its run when the service is killed is answered once, as one album, after the restart; the chat is told once that the run it was in was cut off', async (t) => {
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(async () => { await fake.close() })
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const firstRuns = await tempDir(t)
  const secondRuns = await tempDir(t)
  const paths = homePaths(home)
  await writeJsonAtomic(paths.config, testConfig({
    telegram_token: fake.token,
    allowed_user_ids: [CHAT],
    server: { host: '127.0.0.1', port: 0 },
    telegram: { mode: 'polling', api_root: fake.apiRoot },
    streaming: { enabled: false }
  }))
  const env = { ...bin.env, DUCTOR_HOME: home }
  // The CLI of the first life hangs (the service dies under it); it is killed when the test ends.
  const orphans: number[] = []
  t.after(() => { for (const pid of orphans) { try { process.kill(pid, 'SIGKILL') } catch {} } })
  let messageId = 1
  const message = (fields: Record<string, unknown>): Record<string, unknown> => ({
    message: { message_id: messageId++, date: Math.floor(Date.now() / 1000), chat: { id: CHAT, type: 'private', first_name: 'Ann' }, from: { id: CHAT, is_bot: false, first_name: 'Ann' }, ...fields }
  })
  const photo = (data: string, name: string): unknown => {
    const id = fake.addFile(data, { filePath: `photos/${name}` })
    return [{ file_id: id, file_unique_id: `u-${id}`, width: 1, height: 1, file_size: data.length }]
  }
  const texts = (): string[] => fake.messages(CHAT).map((m) => m.text)

  // First life: a run keeps the chat busy, so the album, once collected, waits in the chat's queue.
  const first = await spawnService(t, { ...env, FAKE_CLI_RECORD_DIR: firstRuns })
  await first.up()
  fake.pushUpdate(message({ text: 'keep busy [[hang]]' }))
  const busy = await waitFor(async () => (await readdir(firstRuns))[0], 30_000, 'the busy run')
  orphans.push(await waitFor(async () => {
    try { return JSON.parse(await readFile(join(firstRuns, busy), 'utf8')).pid as number } catch { return undefined }
  }, 10_000, 'its pid'))
  fake.pushUpdate(message({ media_group_id: 'album-1', caption: 'compare these [[reply:album seen]]', photo: photo('one', 'a.jpg') }))
  fake.pushUpdate(message({ media_group_id: 'album-1', photo: photo('two', 'b.jpg') }))
  await waitFor(() => texts().some((text) => text.startsWith('⏳ Queued')) ? true : undefined, 30_000, 'the album queued behind the busy run')
  first.child.kill('SIGKILL')
  await first.exited

  // Second life on the same home: the album's updates were not finished, so both are replayed.
  const second = await spawnService(t, { ...env, FAKE_CLI_RECORD_DIR: secondRuns })
  await second.up()
  await waitFor(() => texts().includes('album seen') ? true : undefined, 60_000, 'the answer to the album')
  // A later message is answered after anything still in the chat's queue (one lane per chat, FIFO).
  fake.pushUpdate(message({ text: 'and now? [[reply:next answer]]' }))
  await waitFor(() => texts().includes('next answer') ? true : undefined, 30_000, 'the answer to the next message')
  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0, second.output().slice(-2000))

  assert.equal(texts().filter((text) => text === 'album seen').length, 1, `one answer for the album: ${JSON.stringify(texts())}`)
  const prompts = await Promise.all((await readdir(secondRuns)).map(async (f) => JSON.parse(await readFile(join(secondRuns, f), 'utf8')).argv.at(-1) as string))
  const albumRuns = prompts.filter((p) => p.includes('compare these'))
  assert.equal(albumRuns.length, 1, 'the album ran once')
  assert.equal(albumRuns[0]?.match(/sent a photo/g)?.length, 2, 'with both photos in one prompt')
  assert.ok(!prompts.some((p) => p.includes('keep busy')), 'the run that had started is not run again')
  assert.equal(texts().filter((text) => text.includes('ductor restarted while your last message was being handled')).length, 1,
    `the chat is told once that the busy run was cut off: ${JSON.stringify(texts())}`)
  const journal = await createJournal({ path: join(paths.state, 'inbox.jsonl') })
  assert.deepEqual(journal.pending(), [], 'nothing is left to replay')
  await journal.close()
})
