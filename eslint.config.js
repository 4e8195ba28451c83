import neostandard from 'neostandard'

// The core knows nothing of HTTP or Telegram: only plugins/, routes/, src/telegram/, src/app.ts,
// src/main.ts and the CLI may import the frameworks (STYLE.md, "One boundary that matters").
const frameworkImports = {
  paths: [
    { name: 'fastify', message: 'The core must not import fastify; adapt it in plugins/ or routes/.' },
    { name: 'grammy', message: 'The core must not import grammy; keep Telegram code in src/telegram/.' }
  ],
  patterns: [
    { group: ['@fastify/*', 'fastify-*', 'grammy/*', '@grammyjs/*'], message: 'Framework code stays out of the core.' }
  ]
}

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'templates/**'] }),
  {
    files: ['src/core/**', 'src/providers/**', 'src/automation/**', 'src/webhooks/**', 'src/store/**'],
    rules: { 'no-restricted-imports': ['error', frameworkImports] }
  }
]
