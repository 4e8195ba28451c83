/**
 * Just enough multipart/form-data parsing for the fake Bot API: grammY uploads files this way
 * (headers in lower case, `filename=` sometimes unquoted).
 */

export interface UploadedFile {
  field: string
  filename: string
  contentType: string
  data: Buffer
}

export interface MultipartBody {
  fields: Record<string, string>
  files: UploadedFile[]
}

export function boundaryOf (contentType: string): string | null {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m === null ? null : (m[1] ?? m[2] ?? null)
}

function headerParam (header: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}=(?:"([^"]*)"|([^;\\r\\n]*))`, 'i').exec(header)
  if (m === null) return undefined
  return (m[1] ?? m[2] ?? '').trim()
}

export function parseMultipart (body: Buffer, boundary: string): MultipartBody {
  const delimiter = Buffer.from(`--${boundary}`)
  const fields: Record<string, string> = {}
  const files: UploadedFile[] = []
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    let start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === '--') break
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    // The part ends with CRLF before the next delimiter.
    let end = next
    if (body.subarray(end - 2, end).toString() === '\r\n') end -= 2
    const part = body.subarray(start, end)
    const split = part.indexOf('\r\n\r\n')
    if (split !== -1) {
      const headers = part.subarray(0, split).toString('utf8')
      const data = part.subarray(split + 4)
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? ''
      const name = headerParam(disposition, 'name') ?? ''
      const filename = headerParam(disposition, 'filename')
      if (filename !== undefined) {
        const contentType = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream'
        files.push({ field: name, filename, contentType, data: Buffer.from(data) })
      } else {
        fields[name] = data.toString('utf8')
      }
    }
    at = next
  }
  return { fields, files }
}
