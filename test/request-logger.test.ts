import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { LogController } from 'fastify'
import pino from 'pino'
import { lazyRequestLogger } from '../src/request-logger.ts'

/** A Fastify app whose routes log through request.log, with a pino logger that counts its children. */
function app (level: string) {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level, redact: ['secret'] }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
  let children = 0
  const child = logger.child
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) { children++; return child.apply(this, args) } as typeof logger.child
  const fastify = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: lazyRequestLogger })
  fastify.get('/quiet', async () => ({ ok: true }))
  fastify.get('/loud', async (request) => {
    request.log.debug({ step: 1 }, 'below the level')
    request.log.warn({ secret: 'hunter22', step: 2 }, 'a request line')
    return { ok: true }
  })
  return { fastify, lines, children: () => children }
}

test('a request that logs nothing makes no child logger; a line carries the request id and is redacted as before', async (t) => {
  const { fastify, lines, children } = app('info')
  t.after(() => fastify.close())
  await fastify.ready()
  const before = children()
  await fastify.inject({ url: '/quiet' })
  await fastify.inject({ url: '/quiet' })
  assert.equal(children() - before, 0, 'no pino child for requests that log nothing')
  assert.equal(lines.length, 0)

  const res = await fastify.inject({ url: '/loud' })
  assert.equal(res.statusCode, 200)
  assert.equal(children() - before, 1, 'one child, made by the first enabled line')
  assert.equal(lines.length, 1, 'the debug line stays below the level')
  const [line] = lines
  assert.equal(line?.msg, 'a request line')
  assert.equal(line?.step, 2)
  assert.equal(line?.secret, '[Redacted]')
  assert.match(String(line?.reqId), /^req-/, 'the request id binding is on the line')
})

test('request.log reports the level and makes children like a pino logger', async (t) => {
  const { fastify, lines } = app('warn')
  t.after(() => fastify.close())
  fastify.get('/child', async (request) => {
    assert.equal(request.log.level, 'warn')
    request.log.child({ part: 'x' }).error('from a child')
    return { ok: true }
  })
  await fastify.inject({ url: '/child' })
  assert.equal(lines.length, 1, JSON.stringify(lines))
  assert.equal(lines[0]?.part, 'x')
  assert.match(String(lines[0]?.reqId), /^req-/)
})
