import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import type { Command } from 'commander'
import { cronCommand } from '../../src/cli/cron-commands.ts'
import { webhookCommand } from '../../src/cli/webhook-commands.ts'
import type { CliIo } from '../../src/cli/io.ts'
import { permissionText, providerText } from '../../src/cli/task-options.ts'

// The subcommands `ductor cron` and `ductor webhook` share (src/cli/task-options.ts), in-process: the
// checks below all stop before any request, so no service is needed (DUCTOR_HOME names none).
function io (): CliIo {
  return { env: { DUCTOR_HOME: '/nonexistent/ductor-home' }, stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), self: [] }
}

async function failure (command: Command, args: string[]): Promise<string> {
  command.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  for (const sub of command.commands) sub.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  return await command.parseAsync(args, { from: 'user' }).then(() => 'no error', (err: unknown) => (err as Error).message)
}

test('edit without an option names an example and the command\'s own help, before any request', async () => {
  assert.equal(await failure(cronCommand(io()), ['edit', 'daily']), 'nothing to change: give at least one option, e.g. --schedule "30 7 * * *" (see ductor cron edit --help)')
  assert.equal(await failure(webhookCommand(io()), ['edit', 'ci']), 'nothing to change: give at least one option, e.g. --enabled false (see ductor webhook edit --help)')
  assert.equal(await failure(webhookCommand(io()), ['edit', 'ci', '--json']), 'nothing to change: give at least one option, e.g. --enabled false (see ductor webhook edit --help)', '--json is not a change')
})

test('add checks what each kind requires before any request', async () => {
  assert.equal(await failure(cronCommand(io()), ['add', '--id', 'daily', '--title', 'Daily']), '--schedule is required, e.g. --schedule "0 8 * * *"')
  assert.equal(await failure(webhookCommand(io()), ['add', '--id', 'ci', '--mode', 'cron_task']), '--template is required, e.g. --template "CI failed on {{branch}}: {{message}}"')
})

test('the shared run options parse alike in both commands, and say whose they are', async () => {
  for (const command of [cronCommand(io()), webhookCommand(io())]) {
    assert.match(await failure(command, ['edit', 'x', '--provider', 'gemini']), /use one of claude, codex, or "none"/)
    assert.match(await failure(command, ['edit', 'x', '--quiet-start', '24']), /use an hour from 0 to 23, or "none"/)
    assert.match(await failure(command, ['edit', 'x', '--permission-mode', 'yolo']), /use one of .*ask.*, or "none"/)
  }
  const help = (command: Command): string => command.commands.find((c) => c.name() === 'edit')?.helpInformation() ?? ''
  const cron = help(cronCommand(io())).replace(/\s+/g, ' ')
  const hook = help(webhookCommand(io())).replace(/\s+/g, ' ')
  assert.match(cron, /--model <name> model for this job \("none" = the global one\)/)
  assert.match(hook, /--model <name> cron_task: model \("none" = the global one\)/)
  assert.match(cron, /--dependency <key> jobs sharing this key/)
  assert.match(hook, /--dependency <key> cron_task: tasks sharing this key/)
  assert.match(hook, /"none" = the global one \(wake: the chat's\)/)
})

test('a record\'s provider and permission mode in words', () => {
  assert.equal(providerText(null, null), 'default')
  assert.equal(providerText('codex', 'gpt-5', 'high'), 'codex gpt-5, reasoning effort high')
  assert.equal(providerText(null, 'sonnet'), 'claude sonnet', 'a model alone names its provider')
  assert.equal(providerText('claude', null, null), 'claude')
  assert.equal(permissionText(null), 'the global permission_mode')
  assert.equal(permissionText('ask'), 'ask (risky tools ask the chats it reports to first)')
  assert.equal(permissionText('plan'), 'plan')
})

test('--cli-param none clears the CLI parameters (an empty list is sent); an empty argument is refused', async () => {
  for (const make of [cronCommand, webhookCommand]) {
    assert.match(await failure(make(io()), ['edit', 'x', '--cli-param', '']), /give an argument, or "none" to clear them/)
    const command = make(io())
    // The service named by DUCTOR_HOME does not exist, so the request fails after the options parsed.
    await failure(command, ['edit', 'x', '--cli-param', '--a', '--cli-param', 'none'])
    assert.deepEqual(command.commands.find((c) => c.name() === 'edit')?.opts()['cliParam'], [])
    const more = make(io())
    await failure(more, ['edit', 'x', '--cli-param', 'none', '--cli-param', '--b'])
    assert.deepEqual(more.commands.find((c) => c.name() === 'edit')?.opts()['cliParam'], ['--b'])
  }
})
