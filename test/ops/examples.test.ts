import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { adminListenAddress, completeConfig, ENV_OVERRIDES, listenAddress } from '../../src/config.ts'
import { ROOT } from '../helper.ts'

// The Docker and reverse-proxy recipes in examples/ must agree with the config schema: the port, the
// Telegram webhook path, the webhook body limit, the environment variables, and /api kept off the proxy.
const defaults = completeConfig({})
const PORT = listenAddress(defaults).port
const ADMIN_PORT = adminListenAddress(defaults).port
const WEBHOOK_PATH = defaults.telegram.webhook_path
const MAX_BODY = defaults.webhooks.max_body_bytes
const read = (name: string) => readFile(join(ROOT, name), 'utf8')
const code = (text: string) => text.split('\n').map((l) => l.replace(/#.*$/, '')).join('\n')

/** Sizes as Caddy (go-humanize: KiB = 1024, KB = 1000) and nginx (k = 1024) write them. */
function bytes (size: string): number {
  const m = /^(\d+)\s*(KiB|MiB|KB|MB|k|m)?$/i.exec(size.trim())
  assert.ok(m !== null, `a size: ${size}`)
  const unit = (m[2] ?? '').toLowerCase()
  const factor = { '': 1, kib: 1024, k: 1024, mib: 1024 ** 2, m: 1024 ** 2, kb: 1000, mb: 1000 ** 2 }[unit] ?? NaN
  return Number(m[1]) * factor
}

test('docker-compose.yml: the home in /data, the CLI logins in volumes, real env vars, loopback port 8742, a health check', async () => {
  const compose = code(await read('examples/docker-compose.yml'))
  const dockerfile = await read('Dockerfile')
  const envNames = new Set(['DUCTOR_HOME', ...ENV_OVERRIDES.map(([name]) => name)])
  const used = [...compose.matchAll(/^\s+(DUCTOR_[A-Z_]+):/gm)].map((m) => m[1] as string)
  assert.ok(used.length >= 8, 'sets the ductor variables')
  for (const name of used) assert.ok(envNames.has(name), `${name} is an environment override ductor reads`)
  for (const name of ['DUCTOR_TELEGRAM_TOKEN', 'DUCTOR_ALLOWED_USER_IDS', 'DUCTOR_PUBLIC_URL']) assert.ok(used.includes(name), `${name} is set`)

  assert.match(compose, /^\s+DUCTOR_HOME: \/data$/m)
  assert.match(dockerfile, /DUCTOR_HOME=\/data/)
  assert.match(compose, /^\s+- ductor-home:\/data\s*$/m)
  for (const dir of ['/home/node/.claude', '/home/node/.codex']) {
    assert.match(compose, new RegExp(`^\\s+- [a-z-]+:${dir.replace(/\./g, '\\.')}\\s*$`, 'm'), `a volume keeps ${dir}`)
    assert.ok(dockerfile.includes(dir), `the image creates ${dir} so a new volume belongs to node`)
  }
  assert.match(dockerfile, /^USER node$/m)
  assert.match(compose, /^\s+CLAUDE_CONFIG_DIR: \/home\/node\/\.claude$/m, '.claude.json lives in the volume too')

  const ports = [...compose.matchAll(/^\s+- "([^"]+)"\s*$/gm)].map((m) => m[1])
  assert.deepEqual(ports, [`127.0.0.1:${PORT}:${PORT}`, `127.0.0.1:${ADMIN_PORT}:${ADMIN_PORT}`], 'published on loopback only, on the default ports')
  assert.match(compose, new RegExp(`^\\s+DUCTOR_PORT: "${PORT}"$`, 'm'))
  assert.match(compose, new RegExp(`^\\s+DUCTOR_ADMIN_PORT: "${ADMIN_PORT}"$`, 'm'))
  assert.match(compose, new RegExp(`fetch\\('http://127\\.0\\.0\\.1:${PORT}/health'\\)`), 'the health check asks /health')
  assert.match(compose, /^\s+restart: (unless-stopped|always)$/m)
})

test('Caddyfile: proxies only the Telegram webhook path and /hooks/ to ductor, with the webhook body limit; /api/ stays off', async () => {
  const caddy = code(await read('examples/Caddyfile'))
  assert.doesNotMatch(caddy, /\/api/)
  const handles = [...caddy.matchAll(/^\s*handle\s*([^{\s]*)\s*\{/gm)].map((m) => m[1])
  assert.deepEqual(handles, [WEBHOOK_PATH, '/hooks/*', ''], 'two routes to ductor, then a catch-all')
  const blocks = caddy.split(/^\s*handle\b/m).slice(1)
  assert.match(blocks[2] ?? '', /respond "[^"]*" 404/, 'everything else answers 404')
  assert.doesNotMatch(blocks[2] ?? '', /reverse_proxy/)
  for (const block of blocks.slice(0, 2)) {
    assert.match(block, new RegExp(`reverse_proxy 127\\.0\\.0\\.1:${PORT} \\{\\s*header_up X-Forwarded-For \\{remote_host\\}\\s*\\}`), 'X-Forwarded-For set to the address Caddy saw')
  }
  assert.equal(bytes(/max_size (\S+)/.exec(blocks[1] ?? '')?.[1] ?? ''), MAX_BODY, 'the /hooks/ limit is webhooks.max_body_bytes')
  assert.doesNotMatch(caddy, /header_up\s+-/, 'no request header is removed (secret token, signatures)')

  const adapt = spawnSync('caddy', ['adapt', '--config', join(ROOT, 'examples', 'Caddyfile'), '--adapter', 'caddyfile'], { encoding: 'utf8' })
  if (adapt.error === undefined) {
    // Caddy is installed: its own parser agrees.
    assert.equal(adapt.status, 0, adapt.stderr)
    const text = adapt.stdout
    assert.ok(text.includes(`"path":["${WEBHOOK_PATH}"]`) && text.includes('"path":["/hooks/*"]'))
    assert.ok(text.includes(`"max_size":${MAX_BODY}`))
    assert.ok(text.includes(`"dial":"127.0.0.1:${PORT}"`))
  }
})

test('nginx.conf: proxies only the Telegram webhook path and /hooks/ to ductor unchanged, with the webhook body limit; /api/ stays off', async () => {
  const nginx = code(await read('examples/nginx.conf'))
  assert.doesNotMatch(nginx, /\/api/)
  const locations = [...nginx.matchAll(/^\s*location\s+([^{]+?)\s*\{([^}]*)\}/gm)].map((m) => ({ match: m[1], body: m[2] ?? '' }))
  assert.deepEqual(locations.map((l) => l.match), [`= ${WEBHOOK_PATH}`, '/hooks/', '/'])
  assert.match(locations[2]?.body ?? '', /return 404;/)
  for (const l of locations.slice(0, 2)) assert.match(l.body, /proxy_pass http:\/\/ductor;/, 'no URI part: the path reaches ductor as sent')
  assert.match(nginx, new RegExp(`upstream ductor \\{\\s*server 127\\.0\\.0\\.1:${PORT};`))
  assert.equal(bytes(/client_max_body_size (\S+);/.exec(locations[1]?.body ?? '')?.[1] ?? ''), MAX_BODY, 'the /hooks/ limit is webhooks.max_body_bytes')
  assert.doesNotMatch(nginx, /proxy_pass_request_headers\s+off|proxy_pass_request_body\s+off|proxy_set_header\s+(X-Telegram|X-Hub|Stripe|webhook-)/i, 'headers and body pass unchanged')
  assert.doesNotMatch(nginx, /underscores_in_headers/)
  assert.match(nginx, /^\s*proxy_set_header X-Forwarded-For \$remote_addr;$/m, 'X-Forwarded-For is overwritten with the address nginx saw')
  assert.doesNotMatch(nginx, /proxy_add_x_forwarded_for/, 'never appended to what the client sent')
  assert.doesNotMatch(nginx, new RegExp(`:${ADMIN_PORT}\\b`), 'the admin port is not proxied')
})
