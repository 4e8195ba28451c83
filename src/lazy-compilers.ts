import { createRequire } from 'node:module'

/**
 * Fastify's own schema compilers (Ajv for requests, fast-json-stringify for responses), each route's
 * schema compiled on the first request that needs it instead of at start.
 *
 * Compiling every route's validators and serializers up front was the largest part of the start
 * (~0.4–0.9 s, most of it for admin routes an idle service never serves; docs/benchmarks.md, P4). The
 * compilers, their options and the schemas are the same ones Fastify would use, so every request is
 * validated and every response serialized exactly as before; only the moment of compiling moves.
 *
 * They are loaded from Fastify's own dependencies, so the copy and version are the ones it would pick.
 */
type RouteSchema = { schema: unknown, httpPart?: string, [key: string]: unknown }
type Validate = ((data: unknown, ctx?: unknown) => unknown) & { errors?: unknown, schemaEnv?: unknown }
type Serialize = (data: unknown) => string
type ValidatorCompiler = (route: RouteSchema) => Validate
type SerializerCompiler = (route: RouteSchema) => Serialize
type BuildValidator = (externalSchemas: unknown, options: unknown) => ValidatorCompiler
type BuildSerializer = (externalSchemas: unknown, options: unknown) => SerializerCompiler

/** Loads a package as Fastify itself resolves it (its own dependency, whichever copy npm installed). */
function fromFastify<T> (name: string): T {
  const fastifyMain = createRequire(import.meta.url).resolve('fastify')
  const load = createRequire(fastifyMain)
  return load(name) as T
}

export interface LazyCompilersFactory {
  buildValidator: BuildValidator
  buildSerializer: BuildSerializer
}

/** The `schemaController.compilersFactory` option for Fastify. */
export function lazyCompilersFactory (): LazyCompilersFactory {
  let validatorSelector: BuildValidator | undefined
  let serializerSelector: BuildSerializer | undefined
  return {
    buildValidator: (externalSchemas, options) => {
      let compiler: ValidatorCompiler | undefined
      const real = (): ValidatorCompiler => {
        validatorSelector ??= fromFastify<() => BuildValidator>('@fastify/ajv-compiler')()
        compiler ??= validatorSelector(externalSchemas, options)
        return compiler
      }
      return (route) => {
        // Fastify lowercases a header schema's names only for its default compiler; no route declares one.
        if (route.httpPart === 'headers') throw new Error('header schemas are not supported by the lazy compilers (src/lazy-compilers.ts)')
        let fn: Validate | undefined
        const validate: Validate = (data, ctx) => {
          fn ??= real()(route)
          const ok = fn(data, ctx)
          validate.errors = fn.errors
          return ok
        }
        // Fastify passes the parent object (for Ajv's root coercion) only to functions that carry a schemaEnv.
        validate.schemaEnv = true
        return validate
      }
    },
    buildSerializer: (externalSchemas, options) => {
      let compiler: SerializerCompiler | undefined
      const real = (): SerializerCompiler => {
        serializerSelector ??= fromFastify<() => BuildSerializer>('@fastify/fast-json-stringify-compiler')()
        compiler ??= serializerSelector(externalSchemas, options)
        return compiler
      }
      return (route) => {
        let fn: Serialize | undefined
        return (data) => {
          fn ??= real()(route)
          return fn(data)
        }
      }
    }
  }
}
