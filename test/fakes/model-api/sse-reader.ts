// Reads a whole SSE response into `{ event, data }` pairs (for the fakes' own tests).

export interface SseEvent { event: string, data: Record<string, unknown> }

export async function readSse (res: Response): Promise<SseEvent[]> {
  const text = await res.text()
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) => {
    const lines = block.split('\n')
    const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? ''
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice('data: '.length)).join('\n')
    return { event, data: JSON.parse(data) as Record<string, unknown> }
  })
}
