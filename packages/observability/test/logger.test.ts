import { describe, expect, it } from '@jest/globals'
import { PassThrough } from 'node:stream'
import { InvalidConfigError, createLogger, noopLogger } from '../src/index.js'
import type { Logger } from '../src/index.js'

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')))
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

describe('createLogger', () => {
  it('writes structured JSON lines to the given stream, honouring the level', () => {
    const out = capture()
    const log = createLogger({ level: 'info', name: 'cpc-test', destination: out.stream })
    log.debug({ hidden: true }, 'not written')
    log.info({ peer: 'p1', state: 'connected' }, 'connected')
    log.warn('plain message')
    const lines = out.lines()
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({ level: 30, name: 'cpc-test', peer: 'p1', state: 'connected', msg: 'connected' })
    expect(typeof lines[0].time).toBe('number')
    expect(lines[0].pid).toBe(process.pid)
    expect(lines[1]).toMatchObject({ level: 40, msg: 'plain message' })
  })

  it('gives children their bindings and works through the narrow Logger interface', () => {
    const out = capture()
    const log: Logger = createLogger({ level: 'debug', destination: out.stream, base: { node: 'n1' } })
    const child = log.child({ component: 'router' })
    child.debug({ queue: 'HIGH' }, 'drained')
    child.error({ err: new Error('boom') }, 'write failed')
    const [debug, error] = out.lines()
    expect(debug).toMatchObject({ level: 20, node: 'n1', component: 'router', queue: 'HIGH', msg: 'drained' })
    expect(error).toMatchObject({ level: 50, component: 'router', msg: 'write failed' })
    expect((error.err as { message: string }).message).toBe('boom')
  })

  it('rejects unknown levels and pretty printing with InvalidConfigError', () => {
    expect(() => createLogger({ level: 'verbose' })).toThrow(InvalidConfigError)
    expect(() => createLogger({ pretty: true as unknown as false })).toThrow(InvalidConfigError)
  })

  it('noopLogger accepts every call and its children are no-ops too', () => {
    expect(() => {
      noopLogger.info({ a: 1 }, 'x')
      noopLogger.child({ c: 1 }).error('y')
    }).not.toThrow()
    expect(noopLogger.child({})).toBe(noopLogger)
  })
})
