// The `ductor` command's entry. `ductor serve` and the service the supervisor starts take a short
// path that loads only src/cli/supervise.ts (and the service), not the other commands and their
// libraries: the supervisor stays near a bare node's memory (ADR 25). Anything else, `--help`
// included, goes through the full command line in main.ts.
import { runServeCommand, serveShortcut } from './serve-shortcut.ts'

const shortcut = serveShortcut(process.argv.slice(2), process.stdin.isTTY === true && process.stdout.isTTY === true)
if (shortcut === null) {
  const { main } = await import('./main.ts')
  await main(process.argv)
} else {
  await runServeCommand(shortcut)
}
