// Watermarks: above `high` connected peers, the lowest-scored unprotected ones are disconnected
// until `low` remain. The gap between the marks stops the manager from pruning on every new peer.
import { DEFAULT_HIGH_WATERMARK, DEFAULT_LOW_WATERMARK } from './constants.js'
import { InvalidConfigError } from './errors.js'

export interface Watermarks {
  low: number
  high: number
}

export function resolveWatermarks(init: Partial<Watermarks> = {}): Watermarks {
  const low = init.low ?? DEFAULT_LOW_WATERMARK
  const high = init.high ?? Math.max(DEFAULT_HIGH_WATERMARK, low)
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 0 || high < low) {
    throw new InvalidConfigError(`invalid watermarks: low ${low}, high ${high}`)
  }
  return { low, high }
}

export interface PruneCandidate {
  peerId: string
  score: number
  protected: boolean
  /** When the peer connected, ms; among equal scores the newest goes first (the oldest proved itself). */
  connectedAt: number
}

/**
 * The peers to disconnect, in order: nothing at or below `high`; above it, the lowest-scored
 * unprotected peers until `low` would remain (fewer when not enough peers are unprotected).
 */
export function selectPruneVictims(peers: readonly PruneCandidate[], marks: Watermarks): string[] {
  if (peers.length <= marks.high) return []
  const excess = peers.length - marks.low
  return peers
    .filter((p) => !p.protected)
    .sort((a, b) => a.score - b.score || b.connectedAt - a.connectedAt || (a.peerId < b.peerId ? -1 : 1))
    .slice(0, excess)
    .map((p) => p.peerId)
}
