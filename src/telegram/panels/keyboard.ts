import type { InlineButton } from '../format/markers.ts'

export type { InlineButton }

/** Telegram refuses callback_data longer than 64 bytes of UTF-8. */
const CALLBACK_DATA_LIMIT = 64

/** What a panel shows: HTML text (parse_mode HTML) and its inline keyboard. */
export interface Panel {
  html: string
  keyboard: InlineButton[][]
}

/**
 * One inline button. Panels build their callback data from short codes, never from user text, so
 * data over the limit is a bug in the panel: it throws rather than send a button Telegram refuses.
 */
export function button (text: string, data: string): InlineButton {
  if (Buffer.byteLength(data, 'utf8') > CALLBACK_DATA_LIMIT) throw new Error(`callback data over ${CALLBACK_DATA_LIMIT} bytes: ${data}`)
  return { text, callback_data: data }
}

/** Button labels are cut so a long title does not crowd the keyboard (Telegram shows ~30 characters). */
export function label (text: string, max = 28): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()]
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`
}

/** The `reply_markup` for a panel (an empty keyboard removes the buttons). */
export function markup (keyboard: InlineButton[][]): { inline_keyboard: InlineButton[][] } {
  return { inline_keyboard: keyboard }
}
