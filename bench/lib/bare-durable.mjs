// The floor of a durable acknowledgement (bench/hooks.ts, F3/F4): a bare node:http server that does
// the durable part of the hooks route and nothing else — each POST body is appended to a file as one
// line, and the answer (202) goes out only once an fdatasync has covered it. Group commit as the inbox
// journal does it: bodies that arrive while an fdatasync is in flight go into the next single write
// (writev) and share the next fdatasync. No auth, no parsing, no framework, no bookkeeping: what the
// disk and the protocol allow on this machine, the same run.
// Started as `node bare-durable.mjs <port> <file>`.
import { createServer } from 'node:http'
import { fdatasync, openSync, writevSync } from 'node:fs'

const port = Number(process.argv[2])
const fd = openSync(process.argv[3], 'a', 0o600)
const newline = Buffer.from('\n')
let queued = [] // { line: Buffer[], res }
let syncing = false

function commit () {
  if (syncing || queued.length === 0) return
  const batch = queued
  queued = []
  syncing = true
  const buffers = []
  for (const item of batch) buffers.push(...item.line)
  let rest = buffers
  // writev takes at most 1024 buffers (IOV_MAX) and may write short: go on until all is written.
  while (rest.length > 0) {
    const slice = rest.slice(0, 1024)
    let written = writevSync(fd, slice)
    let i = 0
    while (i < slice.length && written >= slice[i].byteLength) { written -= slice[i].byteLength; i++ }
    rest = i < slice.length ? [slice[i].subarray(written), ...rest.slice(i + 1)] : rest.slice(slice.length)
  }
  fdatasync(fd, (err) => {
    syncing = false
    for (const { res } of batch) {
      res.writeHead(err ? 500 : 202, { 'content-type': 'application/json' })
      res.end(err ? '{"error":"storage"}' : '{"accepted":true}')
    }
    commit()
  })
}

createServer((req, res) => {
  const parts = []
  req.on('data', (chunk) => parts.push(chunk))
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"status":"ok"}')
      return
    }
    parts.push(newline)
    queued.push({ line: parts, res })
    // As the journal does: every body of this turn of the event loop joins the batch.
    if (!syncing && queued.length === 1) setImmediate(commit)
  })
}).listen(port, '127.0.0.1')
