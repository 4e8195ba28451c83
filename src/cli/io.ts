/**
 * What a `ductor` command reads from and writes to: its environment and its streams. The binary
 * passes the process's own (`processIo`); tests pass their own and run the command in-process.
 */
export interface CliIo {
  env: NodeJS.ProcessEnv
  stdout: { write: (text: string) => unknown, isTTY?: boolean }
  stderr: { write: (text: string) => unknown }
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  /** How to start this `ductor` again (node, its flags, the entry script): `ductor restart` starts one in the background. */
  self: string[]
  /** The exit code the command asks for (0 unless it sets one), like `process.exitCode`. */
  exitCode?: number
}

export function processIo (): CliIo {
  return { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, self: [process.execPath, ...process.execArgv, process.argv[1] as string] }
}
