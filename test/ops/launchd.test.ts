import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renderLaunchdPlist, launchdPlistPath, LAUNCHD_LABEL } from '../../src/ops/launchd.ts'
import type { ServiceSpec } from '../../src/ops/service-spec.ts'
import { tempDir } from '../helper.ts'

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  nodePath: '/opt/homebrew/bin/node',
  entry: '/opt/homebrew/lib/node_modules/ductor/bin/ductor.js',
  home: null,
  pathDirs: ['/opt/homebrew/bin', '/usr/bin', '/bin'],
  logDir: '/Users/u/.ductor/logs',
  ...over
})

/** Every opening tag has its closing tag, in order (a well-formedness check without an XML parser). */
function assertBalanced (xml: string): void {
  const stack: string[] = []
  for (const m of xml.replace(/<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m as unknown as [string, string, string, string]
    if (selfClosing === '/') continue
    if (closing === '/') assert.equal(stack.pop(), name, `</${name}> closes the open tag`)
    else stack.push(name)
  }
  assert.deepEqual(stack, [])
}

test('the launch agent runs this node and bin/ductor.js without ductor\'s supervisor and keeps it alive', async (t) => {
  const plist = renderLaunchdPlist(spec())
  assert.ok(plist.includes(`<key>Label</key><string>${LAUNCHD_LABEL}</string>`))
  assert.match(plist, /<key>ProgramArguments<\/key>\s*<array>\s*<string>\/opt\/homebrew\/bin\/node<\/string>\s*<string>\/opt\/homebrew\/lib\/node_modules\/ductor\/bin\/ductor\.js<\/string>\s*<string>serve<\/string>\s*<string>--no-supervisor<\/string>\s*<\/array>/)
  assert.ok(plist.includes('<key>KeepAlive</key><true/>'), 'launchd starts it again after any exit, 42 included')
  assert.ok(plist.includes('<key>RunAtLoad</key><true/>'))
  assert.ok(plist.includes('<key>PATH</key><string>/opt/homebrew/bin:/usr/bin:/bin</string>'))
  assert.ok(!plist.includes('DUCTOR_HOME'))
  assert.ok(plist.includes('<key>StandardErrorPath</key><string>/Users/u/.ductor/logs/launchd-stderr.log</string>'))
  assert.match(plist, /<key>ExitTimeOut<\/key><integer>(\d+)<\/integer>/)
  assertBalanced(plist)
  const dir = await tempDir(t)
  const file = join(dir, 'x.plist')
  await writeFile(file, plist)
  const lint = spawnSync('plutil', ['-lint', file], { encoding: 'utf8' })
  if (lint.error === undefined) assert.equal(lint.status, 0, lint.stdout + lint.stderr)
})

test('DUCTOR_HOME is set when given and XML special characters are escaped', () => {
  const plist = renderLaunchdPlist(spec({ home: '/Users/u/A & B <home>', logDir: '/Users/u/A & B <home>/logs' }))
  assert.ok(plist.includes('<key>DUCTOR_HOME</key><string>/Users/u/A &amp; B &lt;home&gt;</string>'))
  assert.ok(!plist.includes('A & B'))
  assertBalanced(plist)
  assert.throws(() => renderLaunchdPlist(spec({ home: '/x\u0001' })), /control character/)
})

test('the plist goes to ~/Library/LaunchAgents', () => {
  assert.equal(launchdPlistPath('/Users/u'), `/Users/u/Library/LaunchAgents/${LAUNCHD_LABEL}.plist`)
})
