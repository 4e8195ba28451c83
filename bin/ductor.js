#!/usr/bin/env node
// The `ductor` command. Runs the compiled CLI from dist/; in a source checkout without a build it
// falls back to the TypeScript sources through tsx (a devDependency).
import { existsSync } from 'node:fs'

const dist = new URL('../dist/src/cli/entry.js', import.meta.url)
if (existsSync(dist)) {
  await import(dist.href)
} else {
  let register
  try {
    ({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write('ductor: not built yet; run `npm run build` (or `npm start`) first\n')
    process.exit(1)
  }
  register()
  await import(new URL('../src/cli/entry.ts', import.meta.url).href)
}
