// runApp and loadAppConfig as the root entry exports them: each loads the process runner
// (app-config.ts with zod and yaml, server/run-app.ts) when called, so importing @cpc/network for an
// embedded NetworkHandler does not load it (benchmark row P6: zod alone is ~9 MiB of RSS).
import type { LoadAppConfigInput, LoadedAppConfig } from './app-config.js'
import type { AppProcessLike, RunAppInit } from './server/run-app.js'

/** See server/run-app.ts. */
export async function runApp(proc: AppProcessLike, init: RunAppInit): Promise<number> {
  const { runApp: run } = await import('./server/run-app.js')
  return run(proc, init)
}

/** See app-config.ts. */
export async function loadAppConfig(input: LoadAppConfigInput): Promise<LoadedAppConfig> {
  const { loadAppConfig: load } = await import('./app-config.js')
  return load(input)
}
