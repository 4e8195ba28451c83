import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chooseHome, namedHome } from '../../src/home/paths.ts'

test('ductor_home: ~ is the user\'s home; absent, empty or not a string names nothing', () => {
  const env = { HOME: '/home/ann' }
  assert.equal(namedHome('~/.ductor', env), '/home/ann/.ductor')
  assert.equal(namedHome('~', env), '/home/ann')
  assert.equal(namedHome(' /srv/ductor/ ', env), '/srv/ductor')
  for (const value of [undefined, null, '', '  ', 42, ['x']]) assert.equal(namedHome(value, env), null)
})

test('ductor_home naming the config\'s own home, or nothing, changes nothing and says nothing', () => {
  const env = { HOME: '/home/ann' }
  for (const value of ['~/.ductor', '/home/ann/.ductor/', undefined, 7]) {
    const choice = chooseHome('/home/ann/.ductor', value, env)
    assert.deepEqual([choice.paths.home, choice.paths.config, choice.followed, choice.note, choice.error], ['/home/ann/.ductor', '/home/ann/.ductor/config/config.json', false, null, null])
  }
})

test('ductor_home naming another folder: followed when it exists (config stays), an error when it does not or is a file; DUCTOR_HOME wins', async (t) => {
  const user = await mkdtemp(join(tmpdir(), 'ductor-home-choice-'))
  t.after(async () => { await rm(user, { recursive: true, force: true }) })
  const configHome = join(user, '.ductor')
  await mkdir(join(user, 'data'), { recursive: true })
  await mkdir(configHome)
  await writeFile(join(user, 'a-file'), '')
  const env = { HOME: user }

  const followed = chooseHome(configHome, '~/data', env)
  assert.deepEqual([followed.paths.home, followed.paths.sessions, followed.paths.config, followed.followed, followed.level], [join(user, 'data'), join(user, 'data', 'sessions.json'), join(configHome, 'config', 'config.json'), true, 'info'])

  // Files an earlier start left in the config home are named, and not used.
  await writeFile(join(configHome, 'sessions.json'), '{}')
  const stray = chooseHome(configHome, '~/data', env)
  assert.equal(stray.level, 'warn')
  assert.match(stray.note ?? '', /also holds sessions\.json: not used, left as they are$/)

  assert.match(chooseHome(configHome, '~/gone', env).error ?? '', /but it does not exist\. Nothing was created or changed/)
  assert.match(chooseHome(configHome, '~/a-file', env).error ?? '', /but it is not a folder\./)

  const fromEnv = chooseHome(configHome, '~/data', { ...env, DUCTOR_HOME: configHome })
  assert.deepEqual([fromEnv.paths.home, fromEnv.followed, fromEnv.error, fromEnv.level], [configHome, false, null, 'warn'])
  // Even a missing folder is no error then: the environment's home is the one used.
  assert.equal(chooseHome(configHome, '~/gone', { ...env, DUCTOR_HOME: configHome }).error, null)
})
