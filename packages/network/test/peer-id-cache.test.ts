// PeerIdCache: the same PeerId object for the same string, bounded, counted, bad strings not cached.
import { describe, expect, it } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Registry } from 'prom-client'
import { createNetworkMetrics } from '../src/metrics.js'
import { PeerIdCache } from '../src/peer-id-cache.js'

const newId = async (): Promise<string> => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()

describe('PeerIdCache', () => {
  it('parses a string once and hands back the same PeerId, which keeps its string', async () => {
    const registry = new Registry()
    const cache = new PeerIdCache(8, createNetworkMetrics(registry))
    const s = await newId()
    const first = cache.get(s)
    expect(first.toString()).toBe(s)
    expect(cache.get(s)).toBe(first)
    expect(cache.get(first)).toBe(first)
    expect([cache.hits, cache.misses]).toEqual([1, 1])
    const metric = await registry.getSingleMetric('cpc_network_peer_id_cache_total')!.get()
    expect(Object.fromEntries(metric.values.map((v) => [v.labels.result, v.value]))).toEqual({ hit: 1, miss: 1 })
  })

  it('keeps at most max entries, forgetting the least recently used', async () => {
    const cache = new PeerIdCache(2)
    const [a, b, c] = await Promise.all([newId(), newId(), newId()])
    const idA = cache.get(a)
    cache.get(b)
    cache.get(a) // a is now the most recent
    cache.get(c) // b goes
    expect(cache.size).toBe(2)
    expect(cache.get(a)).toBe(idA)
    const misses = cache.misses
    cache.get(b)
    expect(cache.misses).toBe(misses + 1)
    expect(cache.size).toBe(2)
  })

  it('refuses a bad string with ERR_INVALID_PEER_ID and caches nothing', () => {
    const cache = new PeerIdCache(2)
    expect(() => cache.get('not-a-peer-id')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PEER_ID' }))
    expect(() => cache.get('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PEER_ID' }))
    expect(cache.size).toBe(0)
  })
})
