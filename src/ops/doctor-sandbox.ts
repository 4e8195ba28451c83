import { join } from 'node:path'
import type { Config } from '../config.ts'
import { packageRoot } from '../sandbox/docker-sandbox.ts'
import { ok, warn, type CheckResult, type DoctorContext } from './doctor-types.ts'

const NAME = 'Docker sandbox'
const QUICK_MS = 15_000

/**
 * `docker.enabled`: whether the sandbox can be used, read-only (nothing is built, created or started
 * here; the service does that). Every way it cannot be used is a warning, not a failure: the service
 * then runs the CLIs on the host (docs/sandbox.md). `usable` says whether runs will go into the container.
 */
export async function checkSandbox (config: Config, ctx: Pick<DoctorContext, 'runner'>): Promise<{ result: CheckResult, usable: boolean }> {
  const { image_name: image, container_name: container, auto_build: autoBuild } = config.docker
  if (!config.docker.enabled) return { result: ok(NAME, 'off (docker.enabled is false): the CLIs run on the host'), usable: false }
  const onHost = 'the service runs the CLIs on the host, without the sandbox'
  const inspect = await ctx.runner('docker', ['container', 'inspect', container], { timeoutMs: QUICK_MS })
  if (inspect.notFound) {
    return { result: warn(NAME, `docker.enabled is true but the docker command is not installed: ${onHost}`, 'install Docker (e.g. apt-get install docker.io), or set docker.enabled to false'), usable: false }
  }
  if (inspect.exitCode !== 0 && !/no such (container|object)/i.test(inspect.stderr)) {
    const why = firstLine(inspect.stderr || inspect.stdout) || `exit code ${inspect.exitCode}`
    return { result: warn(NAME, `Docker does not answer (${why}): ${onHost}`, 'start Docker (systemctl start docker) and make sure this user may use it (the docker group), or set docker.enabled to false'), usable: false }
  }
  if (inspect.exitCode === 0) {
    let facts: { running: boolean, image: string } = { running: false, image: '' }
    try {
      const [info] = JSON.parse(inspect.stdout) as Array<{ State?: { Running?: boolean }, Config?: { Image?: string } }>
      facts = { running: info?.State?.Running === true, image: info?.Config?.Image ?? '' }
    } catch {}
    if (facts.image !== image) return { result: ok(NAME, `container ${container} was made from ${facts.image}, not ${image}: the service recreates it at start`), usable: true }
    if (!facts.running) return { result: ok(NAME, `container ${container} is stopped: the service starts it at the next run`), usable: true }
    const cli = config.provider
    const probe = await ctx.runner('docker', ['exec', container, 'sh', '-c', `command -v setsid >/dev/null || exit 3; command -v ${cli} >/dev/null || exit 4`], { timeoutMs: QUICK_MS })
    if (probe.exitCode === 3) return { result: warn(NAME, `container ${container} has no setsid: runs cannot be stopped inside it`, `rebuild the image from ${join(packageRoot(), 'sandbox', 'Dockerfile')} (docker rm -f ${container}; docker image rm ${image}; ductor restart)`), usable: true }
    if (probe.exitCode === 4) return { result: warn(NAME, `container ${container} runs, but ${cli} is not installed in it`, `docker exec -u 0 ${container} npm install -g ${cli === 'claude' ? '@anthropic-ai/claude-code' : '@openai/codex'} (or rebuild the image)`), usable: true }
    if (probe.exitCode !== 0) return { result: warn(NAME, `container ${container} runs but does not answer (${firstLine(probe.stderr) || `exit ${probe.exitCode}`}): the service recreates it at the next run`), usable: true }
    return { result: ok(NAME, `container ${container} runs (image ${image}, ${cli} inside): the CLIs run in it`), usable: true }
  }
  const hasImage = await ctx.runner('docker', ['image', 'inspect', image], { timeoutMs: QUICK_MS })
  if (hasImage.exitCode === 0) return { result: ok(NAME, `image ${image} is there; the service creates the container ${container} at start`), usable: true }
  if (autoBuild) return { result: ok(NAME, `image ${image} is missing; the service builds it from sandbox/Dockerfile at start (a few minutes, needs the network)`), usable: true }
  return {
    result: warn(NAME, `image ${image} is missing and docker.auto_build is false: ${onHost}`, `docker build -t ${image} ${join(packageRoot(), 'sandbox')}, or set docker.auto_build to true`),
    usable: false
  }
}

function firstLine (text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().replace(/^Error response from daemon:\s*/, '').slice(0, 200)
}
