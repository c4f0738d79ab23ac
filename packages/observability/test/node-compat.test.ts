import { describe, expect, it } from '@jest/globals'
import '../src/node-compat.js'

type WithResolvers = <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void }

describe('node-compat shim', () => {
  const withResolvers = (Promise as unknown as { withResolvers: WithResolvers }).withResolvers.bind(Promise)

  it('provides Promise.withResolvers on every supported Node', () => {
    expect(typeof (Promise as unknown as { withResolvers: unknown }).withResolvers).toBe('function')
  })

  it('resolves the promise it returns', async () => {
    const { promise, resolve } = withResolvers<number>()
    resolve(42)
    await expect(promise).resolves.toBe(42)
  })

  it('rejects the promise it returns', async () => {
    const { promise, reject } = withResolvers<number>()
    const err = new Error('boom')
    reject(err)
    await expect(promise).rejects.toBe(err)
  })

  it('returns a real Promise instance', () => {
    const { promise, resolve } = withResolvers<void>()
    resolve()
    expect(promise).toBeInstanceOf(Promise)
  })
})
