// Child process for the crash tests (test/service-child.ts): runs the whole service on $DUCTOR_HOME
// (port from the config), prints `url <base url> <admin url>` once it listens, logs to stderr, stops gracefully
// on SIGTERM. A test kills it with SIGKILL and starts it again on the same home.
import { startService } from '../src/main.ts'

const service = await startService({ logDestination: { write: (line: string) => { process.stderr.write(line) } } })
process.stdout.write(`url ${service.url} ${service.adminUrl ?? ''}\n`)
process.once('SIGTERM', () => {
  service.close().then(() => process.exit(0), () => process.exit(1))
})
