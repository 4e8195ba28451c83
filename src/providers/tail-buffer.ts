/** Keeps the last `maxBytes` of a byte stream (stderr), decoded on demand. Memory stays bounded. */

export interface Tail {
  push: (chunk: Uint8Array) => void
  text: () => string
}

export function createTail (maxBytes: number): Tail {
  let chunks: Uint8Array[] = []
  let size = 0

  function compact (): Buffer {
    const all = Buffer.concat(chunks, size)
    const kept = all.length > maxBytes ? all.subarray(all.length - maxBytes) : all
    chunks = [kept]
    size = kept.length
    return kept
  }

  return {
    push (chunk) {
      chunks.push(chunk)
      size += chunk.length
      if (size > maxBytes * 2) compact()
    },
    text () {
      if (size === 0) return ''
      let text = compact().toString('utf8')
      // A cut may land inside a character: drop the broken start.
      if (text.charCodeAt(0) === 0xfffd) text = text.slice(1)
      return text
    }
  }
}
