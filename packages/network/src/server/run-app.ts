// The whole life of a cpc-net process, shared by cpc-node, cpc-bootstrap and cpc-relay: load the
// config (flags > env > file > defaults), start a NodeProcess, print the ready line, stop gracefully
// on SIGINT/SIGTERM. The process object is injected (argv, env, stdout, signals), so this stays a
// library function and tests can drive it in-process.
import type { NodeRole } from '../config.js'
import { appUsage, loadAppConfig } from '../app-config.js'
// Type-only: node-process.js (gRPC server, OpenTelemetry, pino, the HTTP server) is loaded by runApp
// itself, so importing @cpc/network for an embedded NetworkHandler never loads it.
import type { NodeProcess, NodeProcessComponents } from './node-process.js'

import { EXIT_CONFIG, EXIT_FAILURE, EXIT_FORCED, EXIT_OK } from '../constants.js'

// The exit codes live in constants.ts, so the root entry exports them without loading this file.
export { EXIT_CONFIG, EXIT_FAILURE, EXIT_FORCED, EXIT_OK }

export interface AppProcessLike {
  env: Readonly<Record<string, string | undefined>>
  stdout: { write(s: string): unknown }
  stderr: { write(s: string): unknown }
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
  removeListener(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
}

export interface RunAppInit {
  /** Program name in the ready line and usage (`cpc-node`). */
  app: string
  role: NodeRole
  /** Arguments after the program (and subcommand) name. */
  argv: readonly string[]
  /** Usage synopsis line. */
  synopsis?: string
  components?: NodeProcessComponents
  /** Called with the running process once ready (tests). */
  onReady?: (node: NodeProcess) => void
}

/**
 * Runs until SIGINT/SIGTERM, then stops and resolves with the exit code. Config errors print
 * `<app>: config.<field>: <problem>` on stderr and resolve EXIT_CONFIG without starting anything.
 */
export async function runApp(proc: AppProcessLike, init: RunAppInit): Promise<number> {
  let loaded
  try {
    loaded = await loadAppConfig({ role: init.role, argv: init.argv, env: proc.env })
  } catch (err) {
    proc.stderr.write(`${init.app}: ${(err as Error).message}\n`)
    if ((err as { code?: string }).code === 'ERR_INVALID_CONFIG') {
      proc.stderr.write(`run '${init.app} --help' for the options\n`)
      return EXIT_CONFIG
    }
    return EXIT_FAILURE
  }
  if (loaded.help) {
    proc.stdout.write(appUsage(init.app, init.role, init.synopsis))
    return EXIT_OK
  }

  // A signal during start: stop as soon as start returns.
  let signalled = false
  let onSignal = (): void => {
    signalled = true
  }
  const listener = (): void => onSignal()
  proc.once('SIGINT', listener)
  proc.once('SIGTERM', listener)

  let node: NodeProcess
  try {
    const { NodeProcess } = await import('./node-process.js')
    node = await NodeProcess.start(loaded.config, init.components)
  } catch (err) {
    proc.removeListener('SIGINT', listener)
    proc.removeListener('SIGTERM', listener)
    const code = (err as { code?: string }).code
    proc.stderr.write(`${init.app}: cannot start: ${code !== undefined ? `${code}: ` : ''}${(err as Error).message}\n`)
    return code === 'ERR_INVALID_CONFIG' || code === 'ERR_INSECURE_BIND' ? EXIT_CONFIG : EXIT_FAILURE
  }

  proc.stdout.write(`${JSON.stringify(node.readyLine(init.app))}\n`)
  init.onReady?.(node)

  const code = await new Promise<number>((resolve) => {
    const stop = (): void => {
      // A second signal while stopping: give up waiting.
      const force = (): void => resolve(EXIT_FORCED)
      proc.once('SIGINT', force)
      proc.once('SIGTERM', force)
      node.logger.info({}, 'signal received, stopping')
      node
        .stop()
        .then(() => resolve(EXIT_OK))
        .catch((err: unknown) => {
          node.logger.error({ err }, 'stop failed')
          resolve(EXIT_FAILURE)
        })
        .finally(() => {
          proc.removeListener('SIGINT', force)
          proc.removeListener('SIGTERM', force)
        })
    }
    if (signalled) stop()
    else onSignal = stop
  })
  proc.removeListener('SIGINT', listener)
  proc.removeListener('SIGTERM', listener)
  proc.stdout.write(`${JSON.stringify({ event: 'stopped', app: init.app, code })}\n`)
  return code
}
