import { ServiceError, type ServiceContext, type ServiceManager } from './service-types.ts'
import { createSystemdManager } from './service-systemd.ts'
import { createLaunchdManager } from './service-launchd.ts'

export { ServiceError, type ServiceContext, type ServiceManager, type ServiceStatus, type InstallResult } from './service-types.ts'

/** The manager for this platform; a clear ServiceError elsewhere (Windows, BSD). */
export function createServiceManager (ctx: ServiceContext): ServiceManager {
  if (ctx.platform === 'linux') return createSystemdManager(ctx)
  if (ctx.platform === 'darwin') return createLaunchdManager(ctx)
  throw new ServiceError(`ductor service supports Linux (systemd) and macOS (launchd), not ${ctx.platform}; use Docker or run \`ductor serve\` under your own supervisor`)
}
