import { join } from 'node:path'
import type { ServiceSpec } from './service-spec.ts'

export const LAUNCHD_LABEL = 'dev.ductor'

/** Seconds launchd waits after SIGTERM before SIGKILL when the agent is stopped. */
const LAUNCHD_EXIT_TIMEOUT_SECONDS = 30

/** `~/Library/LaunchAgents/dev.ductor.plist`. */
export function launchdPlistPath (userHome: string): string {
  return join(userHome, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`)
}

/** The file launchd sends the service's stderr to (startup errors); the service logs to logs/ductor.log. */
function launchdStderrPath (spec: ServiceSpec): string {
  return join(spec.logDir, 'launchd-stderr.log')
}

/**
 * The launchd agent. launchd is the supervisor (`serve --no-supervisor`): `KeepAlive` starts the
 * service again whenever it exits, 42 (`/restart`, upgrade) included; `RunAtLoad` starts it at login.
 * stdout is dropped because the service already writes the same lines to its rotated logs/ductor.log;
 * stderr (startup errors, crashes) goes to logs/launchd-stderr.log.
 */
export function renderLaunchdPlist (spec: ServiceSpec): string {
  const env: Array<[string, string]> = [['PATH', spec.pathDirs.join(':')]]
  if (spec.home !== null) env.push(['DUCTOR_HOME', spec.home])
  const str = (value: string) => `<string>${xml(value)}</string>`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by `ductor service install`; run it again after moving ductor or changing Node. -->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${str(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...[spec.nodePath, spec.entry, 'serve', '--no-supervisor'].map((arg) => `    ${str(arg)}`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env.map(([key, value]) => `    <key>${xml(key)}</key>${str(value)}`),
    '  </dict>',
    '  <key>RunAtLoad</key><true/>',
    '  <key>KeepAlive</key><true/>',
    '  <key>ThrottleInterval</key><integer>5</integer>',
    `  <key>ExitTimeOut</key><integer>${LAUNCHD_EXIT_TIMEOUT_SECONDS}</integer>`,
    '  <key>Umask</key><integer>63</integer>',
    `  <key>StandardOutPath</key>${str('/dev/null')}`,
    `  <key>StandardErrorPath</key>${str(launchdStderrPath(spec))}`,
    '</dict>',
    '</plist>',
    ''
  ].join('\n')
}

function xml (text: string): string {
  // XML 1.0 cannot hold control characters other than tab and line breaks.
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 && c !== '\t' && c !== '\n' && c !== '\r')) throw new Error(`cannot put ${JSON.stringify(text)} in a plist: it holds a control character`)
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}
