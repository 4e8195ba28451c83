import { existsSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'

/** The facts about this process that the ops commands need, read in one place (the CLI's edge). */
export interface ProcessFacts {
  platform: NodeJS.Platform
  userHome: string
  uid: number
  user: string
  inContainer: boolean
}

export function processFacts (env: NodeJS.ProcessEnv = process.env): ProcessFacts {
  const uid = process.getuid?.() ?? 0
  let user = env['USER'] ?? ''
  try {
    user = userInfo().username
  } catch {}
  return {
    platform: process.platform,
    userHome: env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir(),
    uid,
    user: user !== '' ? user : String(uid),
    inContainer: existsSync('/.dockerenv') || existsSync('/run/.containerenv')
  }
}
