/**
 * Callback data of the adapter's own buttons. Buttons the agent writes (`[button:Label]`) carry
 * their label (features/reply-buttons.ts); every other button starts with a short prefix ending in a
 * colon, or with `/` for a command button (features/commands.ts), so the features can tell them
 * apart. Each prefix is declared once, beside the code that builds its buttons:
 *
 * | prefix | buttons | declared in |
 * |---|---|---|
 * | `q:` | cancel a queued message | here |
 * | `x:` | a choice already made (does nothing) | here |
 * | `w:` | the welcome's quick-start prompts | core/command-table.ts (WELCOME_PROMPTS), handled in features/start.ts |
 * | `mdl:` | the /model panel | panels/model-panel.ts |
 * | `crn:` | the /cron panel | panels/cron-panel.ts |
 * | `fls:` | the /showfiles panel | panels/files-panel.ts |
 * | `ap:` | a tool approval request | approval-message.ts |
 * | `apr:` | revoke an approval rule | features/approvals.ts |
 * | `upd:` | the update notice | panels/update-flow.ts |
 * | `upg:` | the /upgrade confirmation | panels/upgrade-flow.ts |
 */
export const CANCEL_PREFIX = 'q:cancel:'
/** A choice already made: the button stays as a mark and does nothing. */
export const SPENT_DATA = 'x:chosen'

/**
 * The presses taken, one per key (a message, or a message and its button), the newest `max`
 * remembered: a double tap reaches the bot twice before the ✅ mark reaches the phone. `take(key)`
 * is true for the first press of `key` and false for every later one.
 */
export function pressesTaken (max = 1000): { take: (key: string) => boolean } {
  const taken = new Set<string>()
  return {
    take (key) {
      if (taken.has(key)) return false
      taken.add(key)
      if (taken.size > max) taken.delete(taken.values().next().value as string)
      return true
    }
  }
}

export const cancelButtonData = (entryId: string): string => `${CANCEL_PREFIX}${entryId}`
