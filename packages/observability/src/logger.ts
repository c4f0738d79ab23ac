// The pino logger factory, and the narrow Logger interface libraries accept instead of pino itself.
import { hostname } from 'node:os'
import { pino } from 'pino'
import type { Logger as PinoLogger, LevelWithSilent } from 'pino'
import { DEFAULT_LOG_LEVEL } from './constants.js'
import { InvalidConfigError } from './errors.js'

export type { PinoLogger }

/** A structured log call: fields first, message second (`log.info({ peer }, 'connected')`). */
export interface LogFn {
  (obj: object, msg?: string): void
  (msg: string): void
}

/**
 * What a cpc-net library needs of a logger. A pino logger satisfies it; so does `noopLogger`.
 * It is also assignable to the four-method `Logger` interfaces other packages declare locally.
 */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  /** A logger that adds `bindings` to every line (`log.child({ component: 'router' })`). */
  child(bindings: Record<string, unknown>): Logger
}

const noop = (): void => {}

/** Logs nothing; the default of every component that takes an optional logger. */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
}

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface LoggerInit {
  /** pino level (default `info`): fatal, error, warn, info, debug, trace or silent. */
  level?: string
  /** Added to every line as `name` (e.g. the app: `cpc-node`). */
  name?: string
  /** Where JSON lines go (default stdout). A stream is written to as-is (tests, files). */
  destination?: 'stdout' | 'stderr' | NodeJS.WritableStream
  /** Extra fields on every line (e.g. `{ peerId }`), besides pino's pid and hostname. */
  base?: Record<string, unknown>
  /** Pretty printing is not bundled (no pino-pretty): JSON lines only. */
  pretty?: false
}

function isLevel(level: string): level is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(level)
}

/** A pino logger writing JSON lines. Apps call this once and pass the result (or children) down. */
export function createLogger(init: LoggerInit = {}): PinoLogger {
  const level = init.level ?? DEFAULT_LOG_LEVEL
  if (!isLevel(level)) {
    throw new InvalidConfigError(`unknown log level '${level}': expected one of ${LOG_LEVELS.join(', ')}`)
  }
  if ((init.pretty as unknown) === true) {
    throw new InvalidConfigError('pretty logging is not bundled (pino-pretty is not a dependency): pipe the JSON output through pino-pretty instead')
  }
  const options = {
    level,
    ...(init.name !== undefined ? { name: init.name } : {}),
    ...(init.base !== undefined ? { base: { pid: process.pid, hostname: hostname(), ...init.base } } : {}),
  }
  const destination = init.destination ?? 'stdout'
  if (destination === 'stdout') return pino(options)
  if (destination === 'stderr') return pino(options, pino.destination(2))
  return pino(options, destination)
}
