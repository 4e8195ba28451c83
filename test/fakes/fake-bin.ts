/**
 * Installs the fake CLIs under their real names in a fresh temp directory, so a test can put
 * it on PATH (or pass the paths as `cli_paths`). Each name is a tiny shell wrapper that `exec`s
 * this Node with the fake script, so the CLI's pid is the fake's own pid.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface FakeBin {
  dir: string
  claude: string
  codex: string
  cleanup: () => Promise<void>
}

const here = fileURLToPath(new URL('.', import.meta.url))

export async function createFakeBin (): Promise<FakeBin> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-fake-bin-'))
  const install = async (name: string, script: string): Promise<string> => {
    const path = join(dir, name)
    await writeFile(path, `#!/bin/sh\nexec '${process.execPath}' '${join(here, script)}' "$@"\n`)
    await chmod(path, 0o755)
    return path
  }
  return {
    dir,
    claude: await install('claude', 'fake-claude.mjs'),
    codex: await install('codex', 'fake-codex.mjs'),
    cleanup: async () => { await rm(dir, { recursive: true, force: true }) }
  }
}
