// A full disk for one process, portable (no mount, no root): loaded with `node --import <this file>`
// into the service only (its CLI children do not get it). Writes to files under $DISKFULL_ROOT draw
// on a byte budget kept in $DISKFULL_BUDGET_FILE: while that file exists, a write larger than what
// is left writes what fits (a short write, as a real filesystem does) and the next one fails with
// ENOSPC. Without the file, writes are free. Reads, renames and unlinks are untouched.
// Patched: fs.open/openSync (to know an fd's path), write/writeSync/writev/writevSync,
// writeFile/appendFile (+Sync), fs.promises.open/writeFile/appendFile and FileHandle's
// write/writev/writeFile/appendFile — every way ductor, pino and streams write.
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { resolve, sep } from 'node:path'

const root = process.env.DISKFULL_ROOT === undefined ? undefined : resolve(process.env.DISKFULL_ROOT)
const budgetFile = process.env.DISKFULL_BUDGET_FILE
const original = { readFileSync: fs.readFileSync, writeFileSync: fs.writeFileSync }
/** fd → path of files opened under the root. */
const paths = new Map()

function under (path) {
  if (root === undefined || typeof path !== 'string') return false
  const full = resolve(path)
  return full === root || full.startsWith(root + sep)
}

function noSpace (syscall) {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: 'ENOSPC', errno: -28, syscall })
}

/** How many of `wanted` bytes may be written to `path` now (the budget shrinks by that much). */
function allow (path, wanted) {
  if (!under(path) || budgetFile === undefined || wanted === 0) return wanted
  let left
  try { left = Number(original.readFileSync(budgetFile, 'utf8')) } catch { return wanted }
  const granted = Math.max(0, Math.min(wanted, left))
  original.writeFileSync(budgetFile, String(left - granted))
  return granted
}

const byteLength = (data, encoding) => typeof data === 'string' ? Buffer.byteLength(data, typeof encoding === 'string' ? encoding : 'utf8') : data.byteLength
const toBuffer = (data, encoding) => typeof data === 'string' ? Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
const pathOf = (target) => typeof target === 'number' ? paths.get(target) : target instanceof URL ? target.pathname : typeof target === 'string' ? target : paths.get(target?.fd)
const remember = (path, fd) => { if (under(typeof path === 'string' ? path : path instanceof URL ? path.pathname : undefined)) paths.set(fd, resolve(String(path instanceof URL ? path.pathname : path))); else paths.delete(fd) }

/** Cuts a list of buffers to `n` bytes. */
function cut (buffers, n) {
  const out = []
  for (const b of buffers) {
    if (n <= 0) break
    out.push(b.byteLength <= n ? b : b.subarray(0, n))
    n -= b.byteLength
  }
  return out
}

// --- callback and sync API -------------------------------------------------------------------
const { open, openSync, write, writeSync, writev, writevSync, writeFileSync, appendFileSync, close, closeSync } = fs

fs.open = function (path, flags, mode, cb) {
  const callback = [flags, mode, cb].find((a) => typeof a === 'function')
  const args = [path, flags, mode, cb].slice(0, arguments.length)
  args[args.indexOf(callback)] = (err, fd) => { if (err == null) remember(path, fd); callback(err, fd) }
  return open.apply(fs, args)
}
fs.openSync = function (path, ...rest) {
  const fd = openSync.call(fs, path, ...rest)
  remember(path, fd)
  return fd
}
fs.close = function (fd, ...rest) { paths.delete(fd); return close.call(fs, fd, ...rest) }
fs.closeSync = function (fd) { paths.delete(fd); return closeSync.call(fs, fd) }

fs.write = function (fd, data, ...rest) {
  const path = paths.get(fd)
  if (path === undefined) return write.call(fs, fd, data, ...rest)
  const callback = rest.find((a) => typeof a === 'function')
  const buffer = typeof data === 'string' ? Buffer.from(data, typeof rest[1] === 'string' ? rest[1] : 'utf8') : toBuffer(data)
  const offset = typeof data === 'string' ? 0 : (typeof rest[0] === 'number' ? rest[0] : 0)
  const length = typeof data === 'string' ? buffer.byteLength : (typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset)
  const position = typeof data === 'string' ? (typeof rest[0] === 'number' ? rest[0] : null) : (typeof rest[2] === 'number' ? rest[2] : null)
  const granted = allow(path, length)
  if (granted === 0) { process.nextTick(callback, noSpace('write')); return }
  return write.call(fs, fd, buffer, offset, granted, position, callback)
}
fs.writeSync = function (fd, data, ...rest) {
  const path = paths.get(fd)
  if (path === undefined) return writeSync.call(fs, fd, data, ...rest)
  const buffer = typeof data === 'string' ? Buffer.from(data, typeof rest[1] === 'string' ? rest[1] : 'utf8') : toBuffer(data)
  const offset = typeof data === 'string' ? 0 : (typeof rest[0] === 'number' ? rest[0] : 0)
  const length = typeof data === 'string' ? buffer.byteLength : (typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset)
  const position = typeof data === 'string' ? (typeof rest[0] === 'number' ? rest[0] : null) : (typeof rest[2] === 'number' ? rest[2] : null)
  const granted = allow(path, length)
  if (granted === 0) throw noSpace('write')
  return writeSync.call(fs, fd, buffer, offset, granted, position)
}
fs.writev = function (fd, buffers, position, cb) {
  const callback = typeof position === 'function' ? position : cb
  const path = paths.get(fd)
  if (path === undefined) return writev.apply(fs, arguments)
  const granted = allow(path, buffers.reduce((n, b) => n + b.byteLength, 0))
  if (granted === 0) { process.nextTick(callback, noSpace('writev')); return }
  return writev.call(fs, fd, cut(buffers, granted), typeof position === 'number' ? position : null, callback)
}
fs.writevSync = function (fd, buffers, position) {
  const path = paths.get(fd)
  if (path === undefined) return writevSync.apply(fs, arguments)
  const granted = allow(path, buffers.reduce((n, b) => n + b.byteLength, 0))
  if (granted === 0) throw noSpace('writev')
  return writevSync.call(fs, fd, cut(buffers, granted), position)
}

/** Whole-file writes: what fits is written, then ENOSPC (the file is left short, as on a real disk). */
function wholeFileSync (fn, target, data, options) {
  const path = pathOf(target)
  if (!under(path)) return fn.call(fs, target, data, options)
  const encoding = typeof options === 'string' ? options : options?.encoding
  const length = byteLength(data, encoding)
  const granted = allow(path, length)
  if (granted === length) return fn.call(fs, target, data, options)
  fn.call(fs, target, toBuffer(data, encoding).subarray(0, granted), typeof options === 'object' && options !== null ? { ...options, encoding: undefined } : undefined)
  throw noSpace('write')
}
fs.writeFileSync = function (target, data, options) { return wholeFileSync(writeFileSync, target, data, options) }
fs.appendFileSync = function (target, data, options) { return wholeFileSync(appendFileSync, target, data, options) }
fs.writeFile = function (target, data, options, cb) {
  const callback = typeof options === 'function' ? options : cb
  const opts = typeof options === 'function' ? undefined : options
  try { wholeFileSync(writeFileSync, target, data, opts) } catch (err) { process.nextTick(callback, err); return }
  process.nextTick(callback, null)
}
fs.appendFile = function (target, data, options, cb) {
  const callback = typeof options === 'function' ? options : cb
  const opts = typeof options === 'function' ? undefined : options
  try { wholeFileSync(appendFileSync, target, data, opts) } catch (err) { process.nextTick(callback, err); return }
  process.nextTick(callback, null)
}

// --- promises API --------------------------------------------------------------------------
const promises = fs.promises
const handlePaths = new WeakMap()
const promiseOpen = promises.open
promises.open = async function (path, ...rest) {
  const handle = await promiseOpen.call(promises, path, ...rest)
  if (under(path instanceof URL ? path.pathname : path)) {
    const full = resolve(String(path instanceof URL ? path.pathname : path))
    handlePaths.set(handle, full)
    paths.set(handle.fd, full) // a write through fs.writevSync(handle.fd, …) counts too
  }
  return handle
}
const probe = await promiseOpen.call(promises, process.execPath, 'r')
const FileHandle = Object.getPrototypeOf(probe)
await probe.close()
const fh = { write: FileHandle.write, writev: FileHandle.writev, writeFile: FileHandle.writeFile, appendFile: FileHandle.appendFile, close: FileHandle.close }

FileHandle.close = async function () {
  if (handlePaths.has(this)) paths.delete(this.fd)
  return await fh.close.call(this)
}

FileHandle.write = async function (data, ...rest) {
  const path = handlePaths.get(this)
  if (path === undefined) return await fh.write.call(this, data, ...rest)
  const isString = typeof data === 'string'
  const buffer = isString ? Buffer.from(data, typeof rest[1] === 'string' ? rest[1] : 'utf8') : toBuffer(data)
  const offset = isString ? 0 : (typeof rest[0] === 'number' ? rest[0] : 0)
  const length = isString ? buffer.byteLength : (typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset)
  const position = isString ? (typeof rest[0] === 'number' ? rest[0] : null) : (typeof rest[2] === 'number' ? rest[2] : null)
  const granted = allow(path, length)
  if (granted === 0) throw noSpace('write')
  return await fh.write.call(this, buffer, offset, granted, position)
}
FileHandle.writev = async function (buffers, position) {
  const path = handlePaths.get(this)
  if (path === undefined) return await fh.writev.call(this, buffers, position)
  const granted = allow(path, buffers.reduce((n, b) => n + b.byteLength, 0))
  if (granted === 0) throw noSpace('writev')
  return await fh.writev.call(this, cut(buffers, granted), position)
}
async function wholeFile (fn, handle, data, options) {
  const path = handlePaths.get(handle)
  if (path === undefined || (typeof data !== 'string' && !ArrayBuffer.isView(data))) return await fn.call(handle, data, options)
  const encoding = typeof options === 'string' ? options : options?.encoding
  const length = byteLength(data, encoding)
  const granted = allow(path, length)
  if (granted === length) return await fn.call(handle, data, options)
  await fn.call(handle, toBuffer(data, encoding).subarray(0, granted))
  throw noSpace('write')
}
FileHandle.writeFile = async function (data, options) { return await wholeFile(fh.writeFile, this, data, options) }
FileHandle.appendFile = async function (data, options) { return await wholeFile(fh.appendFile, this, data, options) }

const promiseWriteFile = promises.writeFile
const promiseAppendFile = promises.appendFile
async function wholePath (flag, fn, target, data, options) {
  const path = pathOf(target)
  if (!under(path) || (typeof target === 'object' && !(target instanceof URL))) return await fn.call(promises, target, data, options)
  const handle = await promises.open(target, flag, typeof options === 'object' && options?.mode !== undefined ? options.mode : 0o666)
  try { await wholeFile(fh.writeFile, handle, data, options) } finally { await handle.close() }
}
promises.writeFile = async function (target, data, options) { return await wholePath(typeof options === 'object' && options?.flag !== undefined ? options.flag : 'w', promiseWriteFile, target, data, options) }
promises.appendFile = async function (target, data, options) { return await wholePath('a', promiseAppendFile, target, data, options) }

syncBuiltinESMExports()
