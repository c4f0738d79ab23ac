// The bounded set of peers discovery has learned, most recently seen last (LRU eviction).
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { MAX_ADDRS_PER_PEER } from './constants.js'
import type { DiscoveredPeer, DiscoverySourceName } from './types.js'

export class KnownPeers {
  private readonly peers = new Map<string, DiscoveredPeer>()

  constructor(private readonly maxPeers: number) {}

  get size(): number {
    return this.peers.size
  }

  has(peerId: PeerId): boolean {
    return this.peers.has(peerId.toString())
  }

  /** Records a sighting; returns true if the peer is new. Addresses are merged, capped per peer. */
  observe(peerId: PeerId, multiaddrs: Multiaddr[], source: DiscoverySourceName, nowMs: number): boolean {
    const key = peerId.toString()
    const existing = this.peers.get(key)
    if (existing !== undefined) {
      this.peers.delete(key)
      const seen = new Set(existing.multiaddrs.map((m) => m.toString()))
      const merged = [...existing.multiaddrs]
      for (const ma of multiaddrs) {
        if (merged.length >= MAX_ADDRS_PER_PEER) break
        if (!seen.has(ma.toString())) merged.push(ma)
      }
      this.peers.set(key, { ...existing, multiaddrs: merged, lastSeenMs: nowMs })
      return false
    }
    if (this.peers.size >= this.maxPeers) {
      const oldest = this.peers.keys().next()
      if (oldest.done !== true) this.peers.delete(oldest.value)
    }
    this.peers.set(key, { peerId, multiaddrs: multiaddrs.slice(0, MAX_ADDRS_PER_PEER), source, lastSeenMs: nowMs })
    return true
  }

  get(peerId: PeerId): DiscoveredPeer | undefined {
    return this.peers.get(peerId.toString())
  }

  /** Most recently seen first. */
  list(source?: DiscoverySourceName): DiscoveredPeer[] {
    const all = [...this.peers.values()].reverse()
    return source === undefined ? all : all.filter((p) => p.source === source)
  }

  clear(): void {
    this.peers.clear()
  }
}
