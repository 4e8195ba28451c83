// A slow disk under the pid lock, for starts racing each other (ADR 49). Loaded with
// `node --import <this file>` into each `ductor serve`: the first file operation on `ductor.pid` (or
// a file next to it named after it) writes `ready-<pid>` into $LOCKRACE_DIR and waits until
// $LOCKRACE_DIR/go exists, so every start reaches the lock at the same moment; from then on each such
// operation (fs.promises open/link/rename/unlink/readFile/writeFile/stat and the handle's
// read/write/stat) first waits a random 0–40 ms, a write 60–100 ms: every window between two steps
// is wide.
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { basename, join } from 'node:path'

const dir = process.env.LOCKRACE_DIR
const promises = fs.promises
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const isLock = (path) => dir !== undefined && /^ductor\.pid/.test(basename(String(path instanceof URL ? path.pathname : path)))

let started
function barrier () {
  started ??= (async () => {
    fs.writeFileSync(join(dir, `ready-${process.pid}`), '')
    while (!fs.existsSync(join(dir, 'go'))) await sleep(5)
  })()
  return started
}

async function slow (write = false) {
  await barrier()
  await sleep((write ? 60 : 0) + Math.floor(Math.random() * 40))
}

function wrapHandle (handle) {
  for (const name of ['writeFile', 'write', 'readFile', 'read', 'stat']) {
    const original = handle[name].bind(handle)
    handle[name] = async (...args) => { await slow(name.startsWith('write')); return await original(...args) }
  }
  return handle
}

const original = { ...promises }
promises.open = async (path, ...rest) => {
  if (!isLock(path)) return await original.open(path, ...rest)
  await slow()
  return wrapHandle(await original.open(path, ...rest))
}
for (const name of ['link', 'rename', 'unlink', 'readFile', 'writeFile', 'stat']) {
  promises[name] = async (path, ...rest) => {
    if (isLock(path) || (name === 'link' && isLock(rest[0]))) await slow(name === 'writeFile')
    return await original[name](path, ...rest)
  }
}
syncBuiltinESMExports()
