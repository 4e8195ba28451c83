/**
 * Telegram sends an album (several photos or files picked together) as separate messages sharing a
 * `media_group_id`. The collector keeps the items of one album for `waitMs` after the last one
 * arrived and hands them over together, so the agent gets one prompt instead of a queue of them.
 *
 * `add` resolves only once the album's `flush` has settled (for the bot: once the album's run has
 * started), so each item's update stays unfinished in the inbox while the album is still being
 * collected or queued: a crash inside that window replays the whole album (ADR 0009).
 */
export interface AlbumCollector<T> {
  add: (groupKey: string, item: T) => Promise<void>
}

interface Album<T> { items: T[], timer: NodeJS.Timeout, waiters: Array<() => void> }

export function createAlbumCollector<T> (flush: (items: T[]) => Promise<void>, waitMs: number): AlbumCollector<T> {
  const albums = new Map<string, Album<T>>()
  const done = (key: string): void => {
    const album = albums.get(key)
    albums.delete(key)
    if (album === undefined) return
    flush(album.items).catch(() => {}).finally(() => { for (const settle of album.waiters) settle() })
  }
  return {
    async add (groupKey, item) {
      const album = albums.get(groupKey)
      if (album !== undefined) clearTimeout(album.timer)
      const items = album?.items ?? []
      const waiters = album?.waiters ?? []
      items.push(item)
      const timer = setTimeout(() => { done(groupKey) }, waitMs)
      timer.unref()
      albums.set(groupKey, { items, timer, waiters })
      await new Promise<void>((resolve) => { waiters.push(resolve) })
    }
  }
}
