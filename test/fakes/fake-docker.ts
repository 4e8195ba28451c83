/**
 * Installs test/fakes/fake-docker.mjs as `docker` in a fresh temp directory (put it first on PATH)
 * with its own state folder; see the script for what it does.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface FakeDocker {
  /** Holds `docker`. */
  dir: string
  /** The state folder (FAKE_DOCKER_STATE). */
  state: string
  /** What to add to the service's environment: PATH first, the state, the CLIs of the "image". */
  env: (imageBin: string, basePath?: string) => Record<string, string>
  /** Every invocation so far, in order. */
  calls: () => Promise<string[][]>
  /** {"down": true}, {"startFails": true}, {"buildFails": true}; {} for a healthy daemon. */
  control: (flags: { down?: boolean, startFails?: boolean, buildFails?: boolean }) => Promise<void>
  /** The fake daemon's state (images, containers). */
  read: () => Promise<{ images: Record<string, unknown>, containers: Record<string, { running: boolean, image: string, user: string, mounts: Array<{ host: string, inside: string, ro: boolean }>, labels: Record<string, string>, pids: number[] }> }>
  cleanup: () => Promise<void>
}

const script = fileURLToPath(new URL('./fake-docker.mjs', import.meta.url))

export async function createFakeDocker (): Promise<FakeDocker> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-fake-docker-'))
  const state = join(dir, 'state')
  const bin = join(dir, 'bin')
  await rm(bin, { recursive: true, force: true })
  await mkdir(bin, { recursive: true })
  await writeFile(join(bin, 'docker'), `#!/bin/sh\nexec '${process.execPath}' '${script}' "$@"\n`)
  await chmod(join(bin, 'docker'), 0o755)
  return {
    dir: bin,
    state,
    env: (imageBin, basePath = process.env['PATH'] ?? '') => ({ PATH: `${bin}:${basePath}`, FAKE_DOCKER_STATE: state, FAKE_DOCKER_IMAGE_BIN: imageBin }),
    calls: async () => {
      const text = await readFile(join(state, 'argv.jsonl'), 'utf8').catch(() => '')
      return text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { argv: string[] }).argv)
    },
    control: async (flags) => {
      await mkdir(state, { recursive: true })
      await writeFile(join(state, 'control.json'), JSON.stringify(flags))
    },
    read: async () => JSON.parse(await readFile(join(state, 'state.json'), 'utf8').catch(() => '{"images":{},"containers":{}}')),
    cleanup: async () => {
      // What still runs "in" the containers goes with them.
      const s = JSON.parse(await readFile(join(state, 'state.json'), 'utf8').catch(() => '{"containers":{}}')) as { containers: Record<string, { pids?: number[] }> }
      for (const c of Object.values(s.containers)) for (const pid of c.pids ?? []) { try { process.kill(-pid, 'SIGKILL') } catch {} }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
