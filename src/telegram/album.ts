/**
 * Telegram sends an album (several photos or files picked together) as separate messages sharing a
 * `media_group_id`. The collector keeps the items of one album for `waitMs` after the last one
 * arrived and hands them over together, so the agent gets one prompt instead of a queue of them.
 */
export interface AlbumCollector<T> {
  add: (groupKey: string, item: T) => void
}

export function createAlbumCollector<T> (flush: (items: T[]) => void, waitMs: number): AlbumCollector<T> {
  const albums = new Map<string, { items: T[], timer: NodeJS.Timeout }>()
  const done = (key: string): void => {
    const album = albums.get(key)
    albums.delete(key)
    if (album !== undefined) flush(album.items)
  }
  return {
    add (groupKey, item) {
      const album = albums.get(groupKey)
      if (album !== undefined) clearTimeout(album.timer)
      const items = album?.items ?? []
      items.push(item)
      albums.set(groupKey, { items, timer: setTimeout(() => { done(groupKey) }, waitMs) })
    }
  }
}
