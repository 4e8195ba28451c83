import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { findExecutable } from '../../src/providers/resolve-binary.ts'

/**
 * Real sample files for the media tests, made in the test: a PDF written by hand (the smallest valid
 * PDF with one line of text per page) and, with ffmpeg, an Ogg/Opus tone and a short video with sound.
 */
export function pdfBytes (pages: string[]): Buffer {
  const objects: string[] = []
  const pageIds = pages.map((_, i) => 4 + i * 2)
  objects.push('<< /Type /Catalog /Pages 2 0 R >>')
  objects.push(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`)
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>')
  pages.forEach((text, i) => {
    const stream = `BT /F1 18 Tf 72 720 Td (${text.replace(/[\\()]/g, (c) => '\\' + c)}) Tj ET`
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + i * 2} 0 R >>`)
    objects.push(`<< /Length ${Buffer.byteLength(stream)} >>\nstream\n${stream}\nendstream`)
  })
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out))
    out += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = Buffer.byteLength(out)
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

export const FFMPEG = findExecutable('ffmpeg', process.env['PATH']) !== null && findExecutable('ffprobe', process.env['PATH']) !== null

/** Why a test that needs ffmpeg adapts (printed, so a CI log shows it). */
export const NO_FFMPEG = 'ffmpeg/ffprobe are not installed here: the tests that need them check the missing-tool answer instead (apt-get install -y ffmpeg runs them)'

/** A 1 s 440 Hz tone as Ogg/Opus, like a Telegram voice note. */
export async function makeVoice (path: string): Promise<void> {
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libopus', '-f', 'ogg', path])
}

/** A 2 s 160x120 test-pattern video with a tone, as MP4 (ffmpeg's own encoders: mpeg4 + aac). */
export async function makeVideo (path: string, opts: { audio?: boolean } = {}): Promise<void> {
  const audio = opts.audio ?? true
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=160x120:rate=10',
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=300:duration=2', '-c:a', 'aac'] : []),
    '-c:v', 'mpeg4', '-shortest', path])
}

export async function writePdf (path: string, pages: string[]): Promise<void> {
  await writeFile(path, pdfBytes(pages))
}

/** A minimal Word file (.docx: a zip of three XML parts, stored uncompressed) holding `paragraphs`. */
export async function writeDocx (path: string, paragraphs: string[]): Promise<void> {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const parts: Array<[string, string]> = [
    ['[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'],
    ['_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'],
    ['word/document.xml', `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${paragraphs.map((p) => `<w:p><w:r><w:t>${esc(p)}</w:t></w:r></w:p>`).join('')}</w:body></w:document>`]
  ]
  const locals: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const [name, text] of parts) {
    const data = Buffer.from(text, 'utf8')
    const nameBuf = Buffer.from(name, 'utf8')
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nameBuf.length, 26)
    const dir = Buffer.alloc(46)
    dir.writeUInt32LE(0x02014b50, 0); dir.writeUInt16LE(20, 4); dir.writeUInt16LE(20, 6); dir.writeUInt32LE(crc, 16)
    dir.writeUInt32LE(data.length, 20); dir.writeUInt32LE(data.length, 24); dir.writeUInt16LE(nameBuf.length, 28); dir.writeUInt32LE(offset, 42)
    locals.push(local, nameBuf, data)
    central.push(dir, nameBuf)
    offset += local.length + nameBuf.length + data.length
  }
  const dirBytes = Buffer.concat(central)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(parts.length, 8); end.writeUInt16LE(parts.length, 10)
  end.writeUInt32LE(dirBytes.length, 12); end.writeUInt32LE(offset, 16)
  await writeFile(path, Buffer.concat([...locals, dirBytes, end]))
}

function crc32 (data: Buffer): number {
  let crc = 0xffffffff
  for (const byte of data) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}
