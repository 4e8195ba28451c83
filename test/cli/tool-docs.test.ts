import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { buildCli } from '../../src/cli/main.ts'
import { ROOT } from '../helper.ts'

/** Splits one shell command line into words (double and single quotes, no expansion). */
function shellWords (line: string): string[] {
  const words: string[] = []
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '')
  return words
}

/** The `ductor …` lines of the code blocks of a Markdown file (`\` continuations joined, comments cut). */
function commandLines (markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
  return blocks.join('\n').replace(/\\\n\s*/g, ' ').split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('ductor '))
}

/** Checks one command line against the real `ductor` command: subcommands, options, option values, arguments. */
function check (program: Command, line: string): string {
  const words = shellWords(line).slice(1)
  let command = program
  while (words[0] !== undefined && !words[0].startsWith('-')) {
    const sub = command.commands.find((c) => c.name() === words[0])
    if (sub === undefined) break
    command = sub
    words.shift()
  }
  const positional: string[] = []
  while (words.length > 0) {
    const word = words.shift() ?? ''
    if (!word.startsWith('--')) {
      positional.push(word)
      continue
    }
    const option = command.options.find((o) => o.long === word)
    assert.ok(option !== undefined, `\`${line}\`: ${command.name()} has no option ${word}`)
    if (option.required || option.optional) {
      const value = words.shift()
      assert.ok(value !== undefined, `\`${line}\`: ${word} needs a value`)
      // The option's own parser refuses a value the doc should not show (e.g. --enabled maybe).
      if (option.parseArg !== undefined) option.parseArg(value, undefined)
    }
  }
  const args = (command as unknown as { registeredArguments: Array<{ required: boolean }> }).registeredArguments
  assert.equal(positional.length, args.length, `\`${line}\`: ${command.name()} takes ${args.length} argument(s), the doc gives ${positional.length}`)
  return command.parent === null ? command.name() : `${command.parent.name()} ${command.name()}`
}

test('every ductor command in the agent\'s tool docs (cron.md, webhooks.md) runs as written', async () => {
  const program = buildCli()
  for (const [file, group, all] of [['cron.md', 'cron', ['list', 'add', 'show', 'edit', 'run', 'remove']], ['webhooks.md', 'webhook', ['list', 'add', 'show', 'test', 'rotate', 'edit', 'remove']]] as const) {
    const text = await readFile(join(ROOT, 'templates', 'workspace', 'tools', file), 'utf8')
    const seen = new Set(commandLines(text).map((line) => check(program, line)))
    for (const sub of all) assert.ok(seen.has(`${group} ${sub}`), `${file} shows ductor ${group} ${sub}`)

    // Flags named in the prose (`--provider claude|codex`, `--preset github|stripe|slack`…) exist on add and edit.
    const groupCommand = program.commands.find((c) => c.name() === group)
    for (const flag of new Set([...text.matchAll(/`(--[a-z-]+)[^`]*`/g)].map((m) => m[1] ?? ''))) {
      for (const sub of ['add', 'edit']) {
        const command = groupCommand?.commands.find((c) => c.name() === sub)
        if (flag === '--json') continue
        assert.ok(command?.options.some((o) => o.long === flag), `${file} names ${flag}, which ductor ${group} ${sub} does not have`)
      }
    }
  }
})

test('every ductor media command in the agent\'s media.md runs as written', async () => {
  const program = buildCli()
  const text = await readFile(join(ROOT, 'templates', 'workspace', 'tools', 'media.md'), 'utf8')
  const seen = new Set(commandLines(text).map((line) => check(program, line)))
  for (const sub of ['transcribe', 'video', 'read']) assert.ok(seen.has(`media ${sub}`), `media.md shows ductor media ${sub}`)
  const rules = await readFile(join(ROOT, 'templates', 'workspace', 'RULES.md'), 'utf8')
  assert.match(rules, /tools\/media\.md/, 'the workspace rules point the agent at media.md')
})
