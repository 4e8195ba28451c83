import type { Type as TypeBoxType } from 'typebox'

/**
 * The schema builder every route, store and config schema is written with: the part of TypeBox's
 * `Type` the service uses, with TypeBox's own signatures (so `Static<typeof X>` and the Fastify type
 * provider see TypeBox types), building the same JSON Schema TypeBox builds, key for key
 * (test/schema-type.test.ts compares them). ADR 47: `import { Type } from 'typebox'` loads ~370 of
 * TypeBox's modules and costs ~8 MB of idle RSS to build plain JSON objects; these few lines build
 * them without it. What the schemas do not carry is TypeBox's non-enumerable `~kind` marks: nothing
 * at run time reads them (Fastify's Ajv reads JSON Schema, src/schema-value.ts reads keywords, and
 * TypeBox's Check, Errors and Compile, on the failure paths, read the keywords too).
 */

type Schema = Record<string, unknown>
type Options = Record<string, unknown> | undefined

/** Schemas marked `Optional`: their object leaves them out of `required`, as TypeBox does. */
const optional = new WeakSet<object>()

const build = {
  String: (options?: Options): Schema => ({ type: 'string', ...options }),
  Integer: (options?: Options): Schema => ({ type: 'integer', ...options }),
  Number: (options?: Options): Schema => ({ type: 'number', ...options }),
  Boolean: (options?: Options): Schema => ({ type: 'boolean', ...options }),
  Null: (options?: Options): Schema => ({ type: 'null', ...options }),
  Unknown: (options?: Options): Schema => ({ ...options }),
  Literal: (value: string | number | boolean, options?: Options): Schema => ({ type: typeof value, const: value, ...options }),
  Enum: (values: ReadonlyArray<string | number>, options?: Options): Schema => ({ enum: [...values], ...options }),
  Array: (items: Schema, options?: Options): Schema => ({ type: 'array', items, ...options }),
  Union: (anyOf: Schema[], options?: Options): Schema => ({ anyOf: [...anyOf], ...options }),
  Optional: (schema: Schema): Schema => {
    const copy = { ...schema }
    optional.add(copy)
    return copy
  },
  Object: (properties: Record<string, Schema>, options?: Options): Schema => {
    const required = Object.keys(properties).filter((key) => !optional.has(properties[key] as Schema))
    return required.length === 0
      ? { type: 'object', properties: { ...properties }, ...options }
      : { type: 'object', required, properties: { ...properties }, ...options }
  },
  Record: (key: Schema, value: Schema, options?: Options): Schema => {
    if (key['type'] !== 'string') throw new Error('Type.Record: only string keys are supported')
    const pattern = typeof key['pattern'] === 'string' ? key['pattern'] : '^.*$'
    return { type: 'object', patternProperties: { [pattern]: value }, ...options }
  }
}

type Used = 'String' | 'Integer' | 'Number' | 'Boolean' | 'Null' | 'Unknown' | 'Literal' | 'Enum' | 'Array' | 'Union' | 'Optional' | 'Object' | 'Record'

export const Type = build as unknown as Pick<typeof TypeBoxType, Used>
