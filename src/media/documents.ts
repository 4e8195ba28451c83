import { open, readFile } from 'node:fs/promises'
import { basename, extname } from 'node:path'

export interface DocumentText {
  file: string
  format: string
  text: string
  /** PDFs: pages in the file, and how many were read. */
  pages?: number
  pagesRead?: number
  truncated: boolean
}

const MAX_TEXT_CHARS = 100_000

const TEXT_EXTENSIONS = new Set(['.txt', '.md', '.csv', '.tsv', '.json', '.yaml', '.yml', '.xml', '.html', '.htm', '.log',
  '.ini', '.cfg', '.conf', '.py', '.js', '.ts', '.sh', '.toml', '.rtf', '.srt', '.vtt'])

/**
 * The text of a document: PDF through unpdf (Mozilla's pdf.js, no native parts), Word (.docx)
 * through mammoth, plain text as is. Anything else that is not text is refused with what is supported.
 */
export async function readDocument (file: string, opts: { maxPages?: number } = {}): Promise<DocumentText> {
  const ext = extname(file).toLowerCase()
  const head = await readHead(file)
  if (ext === '.pdf' || head.subarray(0, 5).toString('latin1') === '%PDF-') return await readPdf(file, opts.maxPages ?? 50)
  if (ext === '.docx') {
    const mammoth = await import('mammoth')
    const { value } = await mammoth.extractRawText({ path: file })
    return cut({ file, format: 'docx', text: value.replace(/\n{3,}/g, '\n\n').trim(), truncated: false })
  }
  if (TEXT_EXTENSIONS.has(ext) || ext === '' || !head.includes(0)) {
    return cut({ file, format: ext.slice(1) || 'txt', text: await readFile(file, 'utf8'), truncated: false })
  }
  throw new Error(`${basename(file)}: ${ext} files cannot be read as text; supported are PDF, Word (.docx) and plain-text files`)
}

async function readPdf (file: string, maxPages: number): Promise<DocumentText> {
  const { getDocumentProxy, extractText } = await import('unpdf')
  let pdf
  try {
    pdf = await getDocumentProxy(new Uint8Array(await readFile(file)))
  } catch (err) {
    throw new Error(`${basename(file)} is not a readable PDF (${(err as Error).message})`)
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false })
    const read = text.slice(0, maxPages)
    return cut({ file, format: 'pdf', text: read.map((t) => t.trim()).join('\n\n---\n\n'), pages: totalPages, pagesRead: read.length, truncated: false })
  } finally {
    await pdf.cleanup()
  }
}

async function readHead (file: string): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const buf = Buffer.alloc(8192)
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

function cut (doc: DocumentText): DocumentText {
  return doc.text.length > MAX_TEXT_CHARS ? { ...doc, text: doc.text.slice(0, MAX_TEXT_CHARS), truncated: true } : doc
}
