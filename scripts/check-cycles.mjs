#!/usr/bin/env node
// Folder-level import cycles (issue 19, docs/architecture.md "Layers"). Every folder under src/
// (src/core, src/store, …), every file directly in src/ (config.ts, app.ts, …), plugins/ and every
// routes/<surface>/ is one node; an import (static, `export … from`, `import type` or a dynamic
// `import()`) from one node into another is an edge. The check fails when the graph has a cycle,
// printing the files that make it. A regular expression over the sources is enough here: every
// relative import in this code base is a string literal ending in `.ts`.
// A few lines of our own rather than madge or dependency-cruiser: they would add ~100 packages to
// answer one question the code below answers in a few milliseconds.
//
// Usage: node scripts/check-cycles.mjs [--root <dir>]
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join, dirname, resolve, relative, sep } from 'node:path'

const rootArg = process.argv.indexOf('--root')
const root = resolve(rootArg > 0 ? process.argv[rootArg + 1] : process.cwd())

function list (dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return list(path)
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** The node a file belongs to, or null for files outside the checked tree. */
function nodeOf (file) {
  const parts = relative(root, file).split(sep)
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}/` : `src/${parts[1]}`
  if (parts[0] === 'plugins') return 'plugins/'
  if (parts[0] === 'routes') return parts.length > 2 ? `routes/${parts[1]}/` : `routes/${parts[1]}`
  return null
}

const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g
const edges = new Map() // from → Map(to → [example "file → file"])
for (const file of ['src', 'plugins', 'routes'].flatMap((d) => list(join(root, d)))) {
  const from = nodeOf(file)
  for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
    const target = resolve(dirname(file), match[1] ?? match[2])
    const to = nodeOf(target)
    if (to === null || to === from) continue
    if (!edges.has(from)) edges.set(from, new Map())
    const examples = edges.get(from)
    if (!examples.has(to)) examples.set(to, [])
    examples.get(to).push(`${relative(root, file)} → ${relative(root, target)}`)
  }
}

// Tarjan's strongly connected components: every component with more than one node is a cycle.
const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])].sort()
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const components = []
let counter = 0
function visit (node) {
  index.set(node, counter)
  low.set(node, counter)
  counter++
  stack.push(node)
  onStack.add(node)
  for (const next of [...(edges.get(node)?.keys() ?? [])].sort()) {
    if (!index.has(next)) {
      visit(next)
      low.set(node, Math.min(low.get(node), low.get(next)))
    } else if (onStack.has(next)) {
      low.set(node, Math.min(low.get(node), index.get(next)))
    }
  }
  if (low.get(node) === index.get(node)) {
    const component = []
    let member
    do {
      member = stack.pop()
      onStack.delete(member)
      component.push(member)
    } while (member !== node)
    if (component.length > 1) components.push(component.sort())
  }
}
for (const node of nodes) if (!index.has(node)) visit(node)

if (components.length === 0) {
  process.stdout.write(`check-cycles: no import cycles between the ${nodes.length} folders and top-level files\n`)
} else {
  for (const component of components) {
    process.stderr.write(`check-cycles: import cycle between ${component.join(', ')}:\n`)
    const members = new Set(component)
    for (const from of component) {
      for (const [to, examples] of edges.get(from) ?? []) {
        if (!members.has(to)) continue
        process.stderr.write(`  ${from} → ${to}: ${examples.slice(0, 3).join('; ')}${examples.length > 3 ? ` (+${examples.length - 3} more)` : ''}\n`)
      }
    }
  }
  process.exitCode = 1
}
