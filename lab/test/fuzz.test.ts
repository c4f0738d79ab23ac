// The shortened fuzz run of the test command: a few thousand random, mutated and oversized frames
// into /cpc/1.0.0 of a live cpc-node process on 127.0.0.1 (no namespaces, no root needed). Needs the
// built apps; skipped with the reason printed otherwise. `npm run fuzz` is the long run.
import { describe, it, expect } from '@jest/globals'
import { appsBuilt } from '../src/apps.js'
import { fuzz } from '../src/fuzz.js'

const reason = appsBuilt()
if (reason != null) console.log(`fuzz test skipped: ${reason}`)
const maybe = reason == null ? it : it.skip

describe('fuzz (quick)', () => {
  maybe(
    '3,000 fuzz inputs: no crash, no unhandled rejection, ping and GetStatus answered throughout, exit 0 on SIGTERM',
    async () => {
      const r = await fuzz({ iterations: 3_000, maxMs: 60_000, checkEvery: 500, seed: 20261124 })
      console.log(JSON.stringify({ ...r, samples: r.samples.length }))
      expect(r.failure).toBeUndefined()
      expect(r.iterations).toBe(3_000)
      expect(r.crashes).toBe(0)
      expect(r.failedChecks).toBe(0)
      expect(r.checks).toBeGreaterThanOrEqual(6)
      expect(r.unhandled).toEqual([])
      expect(r.frameErrors).toBeGreaterThan(0)
      expect(r.exitCode).toBe(0)
    },
    120_000,
  )
})
