import { Type } from '../../src/schema-type.ts'

/** Shared admin API schemas (SPEC §10). Every route declares its responses, so nothing else leaks. */
export const ErrorSchema = Type.Object({ error: Type.String(), message: Type.String() }, { $id: 'Error' })

export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema
}

export const ChatIdParams = Type.Object({
  chatId: Type.String({ pattern: '^-?[A-Za-z0-9_]{1,64}$', description: 'Telegram chat id (e.g. 123456789, -100123…) or any short name' })
})

export const ProviderSchema = Type.Union([Type.Literal('claude'), Type.Literal('codex')])
