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

// src/core is the domain: lanes, chat runs, sessions, commands, sinks. It declares the interfaces the
// other parts implement (RunLog, ChatSink, …) and is composed from outside (plugins/, src/app.ts), so it
// imports none of them: not the automation, the webhooks, Telegram, the store implementations, nor a
// framework (docs/architecture.md; the folder-level import cycles are checked by scripts/check-cycles.mjs).
const coreImports = {
  paths: frameworkImports.paths,
  patterns: [
    ...frameworkImports.patterns,
    { regex: '(^|/)(automation|webhooks|telegram|store|plugins|routes|cli|ops)/', message: 'src/core must not import automation, webhooks, telegram, store implementations or adapters: declare an interface in src/core and let the other side implement it.' },
    { regex: '(^|/)(app|main|create-core)\\.ts$', message: 'src/core must not import the composition (app, main, create-core).' }
  ]
}

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'templates/**'] }),
  {
    files: ['src/providers/**', 'src/automation/**', 'src/webhooks/**', 'src/store/**'],
    rules: { 'no-restricted-imports': ['error', frameworkImports] }
  },
  {
    files: ['src/core/**'],
    rules: { 'no-restricted-imports': ['error', coreImports] }
  }
]
