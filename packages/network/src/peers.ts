// Small helpers over peer ids and peer lists.
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { InvalidPeerIdError } from './errors.js'

/** A PeerId from a PeerId or its base58 string; InvalidPeerIdError (ERR_INVALID_PEER_ID) otherwise. */
export function toPeerId(peer: PeerId | string): PeerId {
  if (typeof peer !== 'string') return peer
  if (peer.length === 0) throw new InvalidPeerIdError(peer, 'empty')
  try {
    return peerIdFromString(peer)
  } catch (err) {
    throw new InvalidPeerIdError(peer, err instanceof Error ? err.message : undefined)
  }
}

/**
 * A bounded set in insertion order: adding past `max` forgets the oldest. Used to report each peer's
 * first sighting once without remembering every peer ever seen.
 */
export class BoundedSet {
  readonly #items = new Set<string>()
  constructor(readonly max: number) {}

  has(item: string): boolean {
    return this.#items.has(item)
  }

  /** Adds; returns false when it was already there. */
  add(item: string): boolean {
    if (this.#items.has(item)) return false
    this.#items.add(item)
    if (this.#items.size > this.max) {
      const oldest = this.#items.values().next().value
      if (oldest !== undefined) this.#items.delete(oldest)
    }
    return true
  }

  clear(): void {
    this.#items.clear()
  }
}
