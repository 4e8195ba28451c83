import fp from 'fastify-plugin'
import type { FastifyInstance, FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify'
import ValidatorSelector from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

/** Our Ajv options (Fastify's `ajv` server option otherwise): an unknown field is a 400, not dropped. */
const AJV_OPTIONS = { customOptions: { removeAdditional: false as const } }
/**
 * JSON bodies are checked as sent, without Fastify's type coercion (which stays for the query string
 * and the path, where every value is text). Coercion changed what a body said: in a "string or null"
 * field Ajv tries the string first and turns a null into "", in "integer or null" into 0, so
 * `PATCH /api/webhooks/:id {"quiet_start": null}` stored 0 and `{"provider": null}` was refused.
 */
const BODY_AJV_OPTIONS = { customOptions: { ...AJV_OPTIONS.customOptions, coerceTypes: false as const } }

/**
 * Route schemas are compiled on their route's first request, not at start: compiling every admin
 * route's Ajv validator and fast-json-stringify serializer up front more than doubled the idle start
 * (docs/benchmarks.md, P4). The compilers are the ones Fastify uses by default, declared as our own
 * dependencies, with Fastify's default options and ours (`AJV_OPTIONS`); they are installed through
 * Fastify's documented `setValidatorCompiler`/`setSerializerCompiler`, so every request is validated
 * and every response serialized as with the defaults. Two documented differences of a custom
 * compiler: a header schema is used as written (write its names in lower case; no route has one),
 * and a broken schema fails its route's first request instead of the start (every route is tested).
 */
type Validators = ReturnType<ReturnType<typeof ValidatorSelector>>
type Serializers = ReturnType<ReturnType<typeof SerializerSelector>>
// Fastify types a route's schema as `unknown`; the compilers take the JSON schemas our routes hold.
type ValidatorRoute = Parameters<Validators>[0]
type SerializerRoute = Parameters<Serializers>[0]

async function schemaCompilersPlugin (app: FastifyInstance): Promise<void> {
  let validators: Validators | undefined
  let bodyValidators: Validators | undefined
  let serializers: Serializers | undefined
  const schemas = (): Parameters<ReturnType<typeof ValidatorSelector>>[0] => app.getSchemas() as Parameters<ReturnType<typeof ValidatorSelector>>[0]
  const validatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
    let compiled: ReturnType<NonNullable<typeof validators>> | undefined
    const validate = Object.assign((data: unknown) => {
      if (compiled === undefined) {
        const forPart = route.httpPart === 'body'
          ? (bodyValidators ??= ValidatorSelector()(schemas(), BODY_AJV_OPTIONS))
          : (validators ??= ValidatorSelector()(schemas(), AJV_OPTIONS))
        compiled = forPart(route as ValidatorRoute)
      }
      const ok = compiled(data)
      validate.errors = compiled.errors ?? null
      return ok
    }, { errors: null as unknown })
    return validate as ReturnType<FastifySchemaCompiler<unknown>>
  }
  const serializerCompiler: FastifySerializerCompiler<unknown> = (route) => {
    let compiled: ((data: unknown) => string) | undefined
    return (data) => {
      serializers ??= SerializerSelector()(schemas(), {})
      compiled ??= serializers(route as SerializerRoute)
      return compiled(data)
    }
  }
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
}

export default fp(schemaCompilersPlugin, { name: 'schema-compilers' })
