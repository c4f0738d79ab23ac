// Parsed PeerIds by their string form, for the API calls that take a peer as a string (sendMessage
// above all). Parsing is a base58 decode plus a multihash check, and each fresh PeerId object then
// re-encodes its string the first time anything keys a map by it (the connection manager, the
// router's queues): together ~11% of a sender's profile at a few thousand sends/s. A cached PeerId
// keeps its string, so both go. Bounded LRU: a hit moves the entry to the young end, the oldest goes
// past `max`.
import type { PeerId } from '@libp2p/interface'
import type { Counter } from 'prom-client'
import { toPeerId } from './peers.js'

/** How many parsed peer ids are kept (a node talks to far fewer peers at a time). */
export const DEFAULT_PEER_ID_CACHE_SIZE = 1024

export interface PeerIdCacheMetrics {
  /** cpc_network_peer_id_cache_total{result="hit"|"miss"} */
  lookups: Counter<'result'>
}

export class PeerIdCache {
  readonly #max: number
  readonly #metrics?: PeerIdCacheMetrics
  readonly #ids = new Map<string, PeerId>()
  hits = 0
  misses = 0

  constructor(max = DEFAULT_PEER_ID_CACHE_SIZE, metrics?: PeerIdCacheMetrics) {
    this.#max = Math.max(1, max)
    this.#metrics = metrics
  }

  get size(): number {
    return this.#ids.size
  }

  /** The PeerId for `peer` (a PeerId is returned as it is); InvalidPeerIdError for a bad string. */
  get(peer: PeerId | string): PeerId {
    if (typeof peer !== 'string') return peer
    const cached = this.#ids.get(peer)
    if (cached !== undefined) {
      this.hits++
      this.#metrics?.lookups.inc({ result: 'hit' })
      // Refresh: Map keeps insertion order, so the first key is always the least recently used.
      this.#ids.delete(peer)
      this.#ids.set(peer, cached)
      return cached
    }
    const id = toPeerId(peer) // throws before anything is cached
    this.misses++
    this.#metrics?.lookups.inc({ result: 'miss' })
    this.#ids.set(peer, id)
    if (this.#ids.size > this.#max) {
      const oldest = this.#ids.keys().next().value
      if (oldest !== undefined) this.#ids.delete(oldest)
    }
    return id
  }

  clear(): void {
    this.#ids.clear()
  }
}
