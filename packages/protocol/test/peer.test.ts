import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import { peerIdToString, toHex } from '../src/index.js'

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** The straightforward BigInt base58btc the fast encoder replaced. */
function reference(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  let s = ''
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s
    n /= 58n
  }
  return '1'.repeat(zeros) + s
}

describe('peer id strings', () => {
  it('property: peerIdToString is base58btc, also for leading zeros and when inputs alternate (memo)', () => {
    const bytesArb = fc.tuple(fc.nat({ max: 3 }), fc.uint8Array({ maxLength: 40 })).map(([z, b]) => Uint8Array.from([...new Uint8Array(z), ...b]))
    fc.assert(
      fc.property(bytesArb, bytesArb, (a, b) => {
        expect(peerIdToString(a)).toBe(reference(a))
        expect(peerIdToString(b)).toBe(reference(b))
        expect(peerIdToString(a)).toBe(reference(a))
      }),
      { numRuns: 300 },
    )
  })

  it('a mutated input after a call is not served from the memo', () => {
    const id = Uint8Array.from({ length: 38 }, (_, i) => i + 1)
    const first = peerIdToString(id)
    id[5] ^= 1
    expect(peerIdToString(id)).toBe(reference(id))
    expect(peerIdToString(id)).not.toBe(first)
  })

  it('toHex matches Buffer hex at every length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => expect(toHex(b)).toBe(Buffer.from(b).toString('hex'))))
  })
})
