/**
 * The one Node 20 shim of cpc-net.
 *
 * libp2p v3 calls `Promise.withResolvers` (added in Node 22). On Node 20.19+ this polyfills it with the
 * exact semantics of the standard method; on Node 22+ it does nothing. Every entry point imports this
 * module first (`import '@cpc/observability/node-compat'`), and jest loads it through `setupFiles`,
 * because each test file runs in its own context. Nothing else in cpc-net is Node-version specific.
 */
interface WithResolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as unknown as { withResolvers?: <T>() => WithResolvers<T> }

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor): WithResolvers<T> {
      let resolve!: WithResolvers<T>['resolve']
      let reject!: WithResolvers<T>['reject']
      const promise = new this<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}

export {}
