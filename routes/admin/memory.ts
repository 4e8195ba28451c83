import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { readFile } from 'node:fs/promises'
import { errorResponses } from './schemas.ts'
import { writeFileAtomic } from '../../src/atomic-json.ts'

const MemorySchema = Type.Object({ content: Type.String(), bytes: Type.Integer() })
const MAX_MEMORY_BYTES = 1024 * 1024

/** The long-term memory file, MAINMEMORY.md (SPEC §10). */
const memoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const path = app.settings.paths.memory

  app.get('/memory', {
    schema: { summary: 'Read MAINMEMORY.md', tags: ['memory'], response: { 200: MemorySchema, ...errorResponses } }
  }, async () => {
    const content = await readFile(path, 'utf8').catch(() => '')
    return { content, bytes: Buffer.byteLength(content) }
  })

  app.put('/memory', {
    bodyLimit: MAX_MEMORY_BYTES + 4096,
    schema: {
      summary: 'Replace MAINMEMORY.md',
      tags: ['memory'],
      body: Type.Object({ content: Type.String({ maxLength: MAX_MEMORY_BYTES }) }, { additionalProperties: false }),
      response: { 200: MemorySchema, ...errorResponses }
    }
  }, async (request) => {
    const { content } = request.body
    await writeFileAtomic(path, content)
    return { content, bytes: Buffer.byteLength(content) }
  })
}

export default memoryRoutes
