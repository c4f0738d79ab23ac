// The DHT queries behind discoverPeers, each timed into cpc_discovery_dht_query_duration_seconds.
import { randomBytes } from '@libp2p/crypto'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { DiscoveryAbortedError, DiscoveryError } from './errors.js'
import type { DiscoveryMetrics } from './metrics.js'
import type { DiscoveryDht } from './types.js'

export type DhtQueryKind = 'find_peer' | 'random_walk' | 'find_providers' | 'provide'

/** Runs `fn`, recording its duration and outcome (success, not_found, aborted, error). */
export async function timed<T>(metrics: DiscoveryMetrics | undefined, kind: DhtQueryKind, fn: () => Promise<T>, isEmpty: (v: T) => boolean = () => false): Promise<T> {
  const end = metrics?.dhtQueryDuration.startTimer({ kind })
  try {
    const value = await fn()
    end?.({ outcome: isEmpty(value) ? 'not_found' : 'success' })
    return value
  } catch (err) {
    const aborted = err instanceof DiscoveryAbortedError || (err as Error)?.name === 'AbortError'
    end?.({ outcome: aborted ? 'aborted' : 'error' })
    if (aborted && !(err instanceof DiscoveryError)) throw new DiscoveryAbortedError(undefined, { cause: err })
    throw err
  }
}

/** The addresses of `peerId`, from the first FINAL_PEER event; undefined if the query ends without one. */
export async function findPeer(dht: DiscoveryDht, peerId: PeerId, signal: AbortSignal): Promise<PeerInfo | undefined> {
  for await (const event of dht.findPeer(peerId, { signal })) {
    if (event.name === 'FINAL_PEER' && event.peer.id.equals(peerId)) return event.peer
  }
  return undefined
}

/** A lookup of a random key: every peer it meets is added to the routing table along the way. */
export async function randomWalk(dht: DiscoveryDht, self: PeerId, limit: number, signal: AbortSignal): Promise<PeerInfo[]> {
  const found = new Map<string, PeerInfo>()
  for await (const event of dht.getClosestPeers(randomBytes(32), { signal })) {
    const peers = event.name === 'FINAL_PEER' ? [event.peer] : event.name === 'PEER_RESPONSE' ? event.closer : []
    for (const p of peers) {
      if (!p.id.equals(self) && found.size < limit) found.set(p.id.toString(), p)
    }
  }
  return [...found.values()]
}

/** Providers of `key` other than ourselves, up to `limit` (the query stops once it has them). */
export async function findProviders(dht: DiscoveryDht, key: CID, self: PeerId, limit: number, signal: AbortSignal): Promise<PeerInfo[]> {
  const found = new Map<string, PeerInfo>()
  const controller = new AbortController()
  const combined = AbortSignal.any([signal, controller.signal])
  try {
    for await (const event of dht.findProviders(key, { signal: combined })) {
      if (event.name !== 'PROVIDER' && event.name !== 'PEER_RESPONSE') continue
      for (const p of event.providers) {
        if (p.id.equals(self)) continue
        const prev = found.get(p.id.toString())
        if (prev === undefined || prev.multiaddrs.length < p.multiaddrs.length) found.set(p.id.toString(), p)
      }
      if (found.size >= limit) break
    }
  } finally {
    controller.abort()
  }
  return [...found.values()].slice(0, limit)
}

/** Publishes a provider record for `key` pointing at us. */
export async function provide(dht: DiscoveryDht, key: CID, signal: AbortSignal): Promise<void> {
  for await (const _event of dht.provide(key, { signal })) {
    // Drain: the records are stored as the query reaches the closest peers.
  }
}
