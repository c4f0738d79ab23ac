// The injected logger: pino-compatible, structured first argument.

/** Pino-like structured logger; the default logs nothing. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

const noop = (): void => {}
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
