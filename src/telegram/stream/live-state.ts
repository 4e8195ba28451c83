import { collapseToolIndicators } from '../format/markers.ts'
import type { StreamEvent } from './types.ts'

/**
 * What a run has shown so far: the streamed reply text and the activity since the last text (tool
 * uses collapsed as `[TOOL: Bash] x3`, then thinking or a status such as compacting), which is
 * displayed as an italic status line while the run is live and never in the final text.
 */
export interface LiveState {
  /** Applies an event; returns true when what the user should see may have changed. */
  apply: (event: StreamEvent) => boolean
  /** The reply text streamed so far. */
  text: () => string
  /** The status line, or '' when the latest event was text. */
  status: () => string
}

/** How many collapsed tool groups the status line shows (the latest ones). */
const toolGroupsShown = 3

export function createLiveState (): LiveState {
  let text = ''
  let tools: string[] = []
  let label = ''
  let afterActivity = false

  return {
    apply (event) {
      switch (event.type) {
        case 'text': {
          if (event.text === '') return false
          // Text after a tool call starts a new paragraph even if the parser did not add one.
          if (afterActivity && text !== '' && !/\s$/.test(text) && !/^\s/.test(event.text)) text += '\n\n'
          text += event.text
          tools = []
          label = ''
          afterActivity = false
          return true
        }
        case 'tool':
          tools.push(event.name)
          label = ''
          afterActivity = true
          return true
        case 'thinking':
          label = 'Thinking…'
          afterActivity = true
          return true
        case 'status':
          label = event.status
          afterActivity = true
          return true
        default:
          return false
      }
    },
    text: () => text,
    status () {
      return [...collapseToolIndicators(tools).slice(-toolGroupsShown), label].filter((s) => s !== '').join(' · ')
    }
  }
}
