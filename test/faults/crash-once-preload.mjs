// Preloaded into `ductor serve` (supervisor and child alike): the first supervised service process
// on a home exits with code 1 while starting (a crash); the file CRASH_ONCE_FILE remembers it.
import { existsSync, writeFileSync } from 'node:fs'

const marker = process.env.CRASH_ONCE_FILE
if (process.env.DUCTOR_SUPERVISED === '1' && marker !== undefined && !existsSync(marker)) {
  writeFileSync(marker, String(process.pid))
  process.exit(1)
}
