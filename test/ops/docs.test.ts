import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { buildCli } from '../../src/cli/main.ts'
import { ROOT } from '../helper.ts'

/** Every `ductor …` command line in the operations docs names a real command and real options. */
test('the ductor commands in docs/installation.md and docs/operations.md exist, with their options', async () => {
  const program = buildCli()
  const seen: string[] = []
  for (const file of ['docs/installation.md', 'docs/operations.md']) {
    const text = await readFile(join(ROOT, file), 'utf8')
    for (const m of text.matchAll(/(?:^|[`\s(])ductor ((?:[a-z][a-z-]*|-[-a-z]+|-n \d+|\d+)(?: (?:[a-z][a-z-]*|--?[a-z-]+(?: \d+)?))*)/gm)) {
      const words = (m[1] ?? '').split(' ')
      let command: Command = program
      const path: string[] = []
      for (const word of words) {
        if (word.startsWith('-')) {
          const known = command.options.some((o) => o.long === word || o.short === word || o.long === word.replace(/^--no-/, '--')) || word === '--help'
          assert.ok(known, `${file}: \`ductor ${path.join(' ')}\` has no option ${word}`)
          continue
        }
        const sub = command.commands.find((c) => c.name() === word)
        if (sub === undefined) {
          assert.ok(path.length === 0 || command.commands.length === 0, `${file}: \`ductor ${path.join(' ')}\` has no subcommand ${word}`)
          break
        }
        command = sub
        path.push(word)
      }
      if (path.length > 0) seen.push(path.join(' '))
    }
  }
  for (const expected of ['init', 'doctor', 'serve', 'service install', 'service status', 'service logs', 'service restart', 'upgrade']) {
    assert.ok(seen.includes(expected), `the docs show ductor ${expected}`)
  }
})
