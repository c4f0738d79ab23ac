import { describe, expect, it } from '@jest/globals'
import { InvalidConfigError } from '../src/errors.js'
import { resolveWatermarks, selectPruneVictims, type PruneCandidate } from '../src/pruner.js'

const peer = (peerId: string, score: number, patch: Partial<PruneCandidate> = {}): PruneCandidate => ({ peerId, score, protected: false, connectedAt: 0, ...patch })

describe('selectPruneVictims', () => {
  const marks = { low: 3, high: 5 }

  it('does nothing at or below the high watermark', () => {
    expect(selectPruneVictims([1, 2, 3, 4, 5].map((i) => peer(`p${i}`, i / 10)), marks)).toEqual([])
  })

  it('above high, removes the lowest-scored unprotected peers down to low', () => {
    const peers = [peer('a', 0.9), peer('b', 0.1), peer('c', 0.5), peer('d', 0.3), peer('e', 0.7), peer('f', 0.2)]
    expect(selectPruneVictims(peers, marks)).toEqual(['b', 'f', 'd'])
  })

  it('never picks protected peers, even the worst ones', () => {
    const peers = [peer('boot', 0, { protected: true }), peer('relay', 0.01, { protected: true }), peer('a', 0.9), peer('b', 0.5), peer('c', 0.6), peer('d', 0.4)]
    expect(selectPruneVictims(peers, marks)).toEqual(['d', 'b', 'c'])
  })

  it('stops short when not enough peers are unprotected', () => {
    const peers = [1, 2, 3, 4, 5].map((i) => peer(`x${i}`, 0, { protected: true })).concat([peer('a', 0.9)])
    expect(selectPruneVictims(peers, marks)).toEqual(['a'])
  })

  it('among equal scores, prunes the newest connection first', () => {
    const peers = [0, 1, 2, 3, 4, 5].map((i) => peer(`p${i}`, 0.5, { connectedAt: i }))
    expect(selectPruneVictims(peers, marks)).toEqual(['p5', 'p4', 'p3'])
  })

  it('validates watermarks', () => {
    expect(resolveWatermarks({ low: 2, high: 4 })).toEqual({ low: 2, high: 4 })
    expect(() => resolveWatermarks({ low: 5, high: 4 })).toThrow(InvalidConfigError)
    expect(() => resolveWatermarks({ low: -1 })).toThrow(InvalidConfigError)
  })
})
