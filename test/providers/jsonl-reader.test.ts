import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createJsonlReader, type MalformedLine } from '../../src/providers/jsonl-reader.ts'
import fc from 'fast-check'

function collect (maxLineBytes?: number): { objects: unknown[], malformed: MalformedLine[], reader: ReturnType<typeof createJsonlReader> } {
  const objects: unknown[] = []
  const malformed: MalformedLine[] = []
  const reader = createJsonlReader({ onObject: (o) => objects.push(o), onMalformed: (m) => malformed.push(m), maxLineBytes })
  return { objects, malformed, reader }
}

test('a multi-byte character split across chunks is decoded intact', () => {
  const { objects, reader } = collect()
  const bytes = Buffer.from('{"t":"😀 héllo · ’"}\n')
  for (const byte of bytes) reader.write(Uint8Array.of(byte))
  reader.end()
  assert.deepEqual(objects, [{ t: '😀 héllo · ’' }])
})

test('CRLF, blank lines and a last line without newline', () => {
  const { objects, malformed, reader } = collect()
  reader.write('{"a":1}\r\n\r\n   \n{"b"')
  reader.write(':2}')
  assert.deepEqual(objects, [{ a: 1 }])
  reader.end()
  assert.deepEqual(objects, [{ a: 1 }, { b: 2 }])
  assert.deepEqual(malformed, [])
})

test('garbage and non-objects are reported, not thrown', () => {
  const { objects, malformed, reader } = collect()
  reader.write('{"a":1\n42\n"str"\nnull\n{"ok":true}\n')
  reader.end()
  assert.deepEqual(objects, [{ ok: true }])
  assert.equal(malformed.length, 4)
})

test('a line over the limit is dropped once, and reading resumes at the next line', () => {
  const { objects, malformed, reader } = collect(64)
  reader.write('{"x":"' + 'a'.repeat(50))
  reader.write('b'.repeat(50))
  reader.write('c'.repeat(50) + '"}\n{"next":1}\n')
  reader.end()
  assert.deepEqual(objects, [{ next: 1 }])
  assert.equal(malformed.length, 1)
  assert.match(malformed[0]?.reason ?? '', /longer than 64 bytes/)
})

test('however stdout is cut into chunks, the same objects and the same malformed lines come out, in order', () => {
  const line = fc.oneof(
    fc.record({ t: fc.string({ unit: 'grapheme', maxLength: 12 }), n: fc.integer() }).map((o) => JSON.stringify(o)),
    fc.constantFrom('', '  ', '\r', 'not json', '[1]', ' {"a":"é"} ', '{"broken":', '\ufeff{"b":1}')
  )
  fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), (lines, cuts) => {
    const bytes = Buffer.from(lines.join('\n') + '\n')
    const whole = collect()
    whole.reader.write(bytes)
    whole.reader.end()
    const cut = collect()
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
    let at = 0
    for (const point of [...points, bytes.length]) {
      cut.reader.write(bytes.subarray(at, point))
      at = point
    }
    cut.reader.end()
    assert.deepEqual(cut.objects, whole.objects)
    assert.deepEqual(cut.malformed, whole.malformed)
    // And each object is what JSON.parse makes of its own line.
    const expected = lines.map((l) => l.replace(/^[\s\ufeff]+|[\s\ufeff]+$/g, '')).filter((l) => l !== '').flatMap((l) => {
      try { const v: unknown = JSON.parse(l); return v !== null && typeof v === 'object' && !Array.isArray(v) ? [v] : [] } catch { return [] }
    })
    assert.deepEqual(whole.objects, expected)
  }), { numRuns: 500 })
})
