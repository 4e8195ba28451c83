/**
 * Callback data of the adapter's own buttons. Buttons the agent writes (`[button:Label]`) carry
 * their label; everything else starts with a short prefix ending in a colon so the features can
 * tell them apart (`q:` queue, `x:` spent choices, `/` command buttons). The panels use their own
 * prefixes: `mdl:` model (panels/model-panel.ts), `crn:` cron (panels/cron-panel.ts), `fls:` files
 * (panels/files-panel.ts), `w:` the welcome's quick-start prompts (features/start.ts), `upd:` the update notice
 * (features/update-notice.ts).
 */
export const CANCEL_PREFIX = 'q:cancel:'
/** A choice already made: the button stays as a mark and does nothing. */
export const SPENT_DATA = 'x:chosen'

export const cancelButtonData = (entryId: string): string => `${CANCEL_PREFIX}${entryId}`
