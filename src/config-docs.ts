import type { TSchema } from 'typebox'
import { ConfigSchema } from './config-schema.ts'
import { describeSchema, ENV_OVERRIDES, GENERATED_SECRETS } from './config.ts'
import { fillDefaults } from './schema-value.ts'

/**
 * Renders docs/configuration.md from the schema, so the reference cannot drift from the code
 * (a test compares the file with this output; `npm run docs:config` rewrites it).
 */
export function renderConfigDocs (): string {
  const rows: string[] = []
  const walk = (schema: TSchema, prefix: string): void => {
    const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {}
    for (const [name, child] of Object.entries(props)) {
      const key = prefix + name
      const c = child as Record<string, unknown>
      if (c['type'] === 'object' && c['properties'] !== undefined && Object.keys(c['properties'] as object).length > 0 && key !== 'cli_parameters') {
        walk(child, key + '.')
        continue
      }
      const env = ENV_OVERRIDES.find(([, k]) => k === key)?.[0]
      const generated = (GENERATED_SECRETS as readonly string[]).includes(key)
      const def = generated ? '*generated*' : '`' + JSON.stringify(fillDefaults(child, structuredClone(c['default']))) + '`' + (c['secret'] === true ? ' (secret)' : '')
      const desc = [String(c['description'] ?? ''), env !== undefined ? `Env: \`${env}\`.` : ''].filter(Boolean).join(' ')
      rows.push(`| \`${key}\` | ${def.replace(/\|/g, '\\|')} | ${describeSchema(child).replace(/\|/g, '\\|')} | ${desc.replace(/\|/g, '\\|')} |`)
    }
  }
  walk(ConfigSchema, '')
  return `# Configuration

<!-- Generated from src/config-schema.ts by \`npm run docs:config\`; a test keeps it in sync. -->

ductor reads \`config/config.json\` in its home (\`DUCTOR_HOME\`, default \`~/.ductor\`). On start a missing file
is created with the defaults below, missing keys are filled in and written back, and keys ductor does not
know are kept (each is named in a warning at start and by \`ductor doctor\`, with the known key it most
likely meant: \`cli_timout\` → did you mean \`cli_timeout\`?). An invalid value stops startup with one
line naming the key, the value and what is allowed. A file that is not valid JSON stops startup (exit
2) with one line naming the file, line and column; ductor never moves it aside or replaces it, and
\`ductor init\` and \`PATCH /api/config\` refuse to write over it. Secrets marked *generated* are created once (32 random bytes) and kept; they never appear in
logs or in \`GET /api/config\`.

Environment variables override the file (they are not written to it), so a container needs no file:
${ENV_OVERRIDES.map(([env, key]) => `\`${env}\` → \`${key}\``).join(', ')}.

| key | default | allowed | meaning |
|---|---|---|---|
${rows.join('\n')}
`
}
