import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer, request, type Server } from 'node:http'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHmac } from 'node:crypto'
import { ADMIN_TOKEN, ROOT, build, tempDir, testConfig, waitFor } from '../helper.ts'
import { freePort } from './helpers.ts'

/**
 * The shipped nginx recipe, run by the real nginx (Debian's package; `.ci/run` installs it), in front
 * of a real service (issue 15, ADR 14):
 * - a client rotating its own X-Forwarded-For stays in one rate-limit bucket (the recipe overwrites the
 *   header with $remote_addr, server.trust_proxy names the proxy), while another client has its own;
 * - the admin API cannot be reached through the recipe, nor through a catch-all `proxy_pass`;
 * - a signed delivery passes the recipe unchanged.
 * Where nginx is not installed (or PROXY_RECIPES_NODE=1), the test says so and runs a small node proxy that does exactly what the
 * recipe does (overwrite X-Forwarded-For, pass only the two paths), so the service side is still tried.
 */

const HOOK_TOKEN = 'proxy-hook-token-0123456789abcdef'
const GH_SECRET = 'proxy-github-secret-0123456789'

interface Answer { status: number, body: string }

/** One request from a chosen loopback source address (every 127.x address is this machine on Linux). */
async function send (port: number, path: string, opts: { from?: string, method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.from ?? '127.0.0.1', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** examples/nginx.conf with the certificate and the public ports swapped for a test port and the service's port. */
async function recipeServer (recipePort: number, servicePort: number): Promise<string> {
  let text = await readFile(join(ROOT, 'examples', 'nginx.conf'), 'utf8')
  text = text.replace(/server 127\.0\.0\.1:8742;/, `server 127.0.0.1:${servicePort};`)
  // The redirect-to-HTTPS server block is not part of what is tried; TLS is nginx's business.
  text = text.replace(/server \{\s*listen 80;[\s\S]*?\n\}\n/, '')
  text = text.replace(/listen 443 ssl;/, `listen 127.0.0.1:${recipePort};`).replace(/^\s*listen \[::\]:443 ssl;\n/m, '')
  text = text.replace(/^\s*ssl_certificate(_key)? .*\n/gm, '').replace(/server_name [^;]+;/, 'server_name _;')
  assert.doesNotMatch(text, /ssl|:8742|listen 80/, 'the recipe was adapted for the test')
  return text
}

async function startNginx (dir: string, recipePort: number, defaultPort: number, servicePort: number): Promise<ChildProcess> {
  const conf = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # A catch-all proxy_pass, as someone might write it without reading the recipe.
  server {
    listen 127.0.0.1:${defaultPort};
    location / { proxy_pass http://127.0.0.1:${servicePort}; }
  }
${await recipeServer(recipePort, servicePort)}
}
`
  await writeFile(join(dir, 'nginx.conf'), conf)
  const check = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' })
  assert.equal(check.status, 0, `nginx -t: ${check.stderr}`)
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  return child
}

/** The recipe's behaviour in node, for a machine without nginx: overwrite X-Forwarded-For, pass only the two paths (or everything). */
function nodeProxy (servicePort: number, onlyRecipePaths: boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (onlyRecipePaths && path !== '/telegram/webhook' && !path.startsWith('/hooks/')) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html>404 Not Found</html>')
      return
    }
    const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-forwarded-proto': 'https' }
    const upstream = request({ host: '127.0.0.1', port: servicePort, path: req.url, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
}

test('behind the nginx recipe: a rotating X-Forwarded-For still hits the rate limit; /api is unreachable through the recipe and a catch-all proxy_pass', { timeout: 90_000 }, async (t) => {
  const service = await build(t, {
    serve: true,
    config: testConfig({
      server: { host: '127.0.0.1', port: 0, trust_proxy: ['127.0.0.1'] },
      webhooks: { enabled: true, rate_limit_per_minute: 5 }
    }),
    exactEnv: { PATH: '/usr/bin:/bin' }
  })
  await service.app.webhooks.store.create({ id: 'ci', title: 'CI', mode: 'wake', prompt_template: 'Event {{n}}', token: HOOK_TOKEN })
  await service.app.webhooks.store.create({ id: 'gh', title: 'GitHub', mode: 'wake', prompt_template: 'Push {{n}}', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: GH_SECRET })
  const servicePort = Number(new URL(service.url).port)
  const recipePort = await freePort()
  const defaultPort = await freePort()

  // PROXY_RECIPES_NODE=1 tries the node stand-in even where nginx is installed.
  const hasNginx = process.env['PROXY_RECIPES_NODE'] !== '1' && spawnSync('nginx', ['-v'], { encoding: 'utf8' }).error === undefined
  if (hasNginx) {
    const dir = await tempDir(t)
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub))
    const nginx = await startNginx(dir, recipePort, defaultPort, servicePort)
    t.after(() => { nginx.kill('SIGTERM') })
    t.diagnostic(`${spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim()}: running examples/nginx.conf`)
  } else {
    t.diagnostic('nginx is not installed (apt-get install nginx-light) or PROXY_RECIPES_NODE=1: using a node proxy that overwrites X-Forwarded-For like examples/nginx.conf')
    const recipe = nodeProxy(servicePort, true).listen(recipePort, '127.0.0.1')
    const catchAll = nodeProxy(servicePort, false).listen(defaultPort, '127.0.0.1')
    t.after(() => { recipe.close(); catchAll.close() })
  }
  await waitFor(async () => (await send(defaultPort, '/health').catch(() => ({ status: 0, body: '' }))).status === 200 ? true : undefined, 20_000, 'the proxy to answer')

  // Client A rotates X-Forwarded-For on every request; its bucket (5 a minute) is the address nginx saw.
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) {
    const res = await send(recipePort, '/hooks/ci', {
      from: '127.0.0.2',
      method: 'POST',
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i + 1}`, forwarded: `for=198.51.100.${i + 1}`, 'x-real-ip': `198.51.100.${i + 1}` },
      body: JSON.stringify({ n: i })
    })
    statuses.push(res.status)
  }
  assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429, 429, 429], 'rotating X-Forwarded-For does not move the bucket')
  // Client B, another address as nginx sees it, has its own budget: the key is the client, not the proxy.
  const other = await send(recipePort, '/hooks/ci', { from: '127.0.0.3', method: 'POST', headers: { authorization: `Bearer ${HOOK_TOKEN}`, 'content-type': 'application/json' }, body: '{"n":"b"}' })
  assert.equal(other.status, 202, other.body)

  // A signed delivery passes the recipe byte for byte (signature headers and body unchanged).
  const body = JSON.stringify({ n: 'signed', ref: 'refs/heads/main' })
  const signed = await send(recipePort, '/hooks/gh', {
    from: '127.0.0.4',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', GH_SECRET).update(body).digest('hex')}`, 'x-github-delivery': 'through-nginx-1' },
    body
  })
  assert.equal(signed.status, 202, signed.body)

  // The admin API: through the recipe (404 from nginx), through a catch-all proxy_pass (404 from ductor's public listener).
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  for (const [port, name] of [[recipePort, 'the recipe'], [defaultPort, 'a catch-all proxy_pass']] as const) {
    for (const path of ['/api/status', '/api/config', '/api/openapi.json', '/%61pi/status', '//api/status', '/hooks/../api/status']) {
      const res = await send(port, path, { headers: auth })
      assert.ok(res.status === 404 || res.status === 400, `${path} through ${name}: ${res.status} ${res.body.slice(0, 100)}`)
      assert.doesNotMatch(res.body, /"version"|"token"/, `${path} through ${name} shows nothing of the API`)
    }
    const post = await send(port, '/api/chats/1/messages', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"text":"hi"}' })
    assert.equal(post.status, 404, `POST /api/chats/1/messages through ${name}`)
  }
  assert.equal((await send(defaultPort, '/health')).status, 200, 'the catch-all proxy does reach ductor')
  assert.equal((await fetch(`${service.adminUrl ?? ''}/api/status`, { headers: auth })).status, 200, 'on this machine the admin listener answers')
})
