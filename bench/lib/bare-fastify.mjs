// A baseline for P1: bare Fastify doing what the hooks route's framework part does — the same raw-body
// parser for every content type, a params schema, a serialized 202 — and nothing of ductor (no rate
// limit, no auth, no journal). Started by bench/hooks.ts as `node bare-fastify.mjs <port>`.
import Fastify from 'fastify'

const port = Number(process.argv[2])
const app = Fastify({ logger: false })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
app.post('/hooks/:hookId', {
  schema: {
    params: { type: 'object', properties: { hookId: { type: 'string' } }, required: ['hookId'] },
    response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' }, hook_id: { type: 'string' }, delivery_id: { type: 'string' } } } }
  }
}, async (request, reply) => {
  return await reply.code(202).send({ accepted: true, hook_id: request.params.hookId, delivery_id: 'x' })
})
app.get('/health', async () => ({ status: 'ok' }))
await app.listen({ port, host: '127.0.0.1' })
