/**
 * Chat keys (sessions, lanes, the admin API's `:chatId`) are text. A key names a Telegram chat when
 * it is the decimal form of an id Telegram can have: an integer of at most 52 bits (always a safe
 * integer), without a leading zero or a plus sign. Any other key is a chat outside Telegram (`cli`,
 * a name). One rule everywhere, so that a key never reaches Telegram as a different number (a
 * 20-digit key used to be rounded by `Number()` and answered in chat 1e20).
 */
export function telegramChatId (key: string): number | null {
  if (!/^-?[1-9]\d{0,15}$/.test(key)) return null
  const id = Number(key)
  return Number.isSafeInteger(id) ? id : null
}

/**
 * Why a key made only of digits cannot be used, or null when it can (not digits-only, or a Telegram
 * id). Such a key is neither a Telegram chat (the number is out of range or not written as Telegram
 * writes it) nor clearly a name, so where a chat is named it is refused rather than guessed.
 */
export function ambiguousChatKey (key: string): string | null {
  if (!/^-?\d+$/.test(key) || telegramChatId(key) !== null) return null
  return `"${key}" is not a Telegram chat id (they are whole numbers of at most 16 digits, without a leading zero); a chat outside Telegram needs a name with a letter or _ in it`
}
