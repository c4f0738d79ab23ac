// Announces our own record and groups (PeerAnnounce) to the K best-scored connected peers when we
// join or leave a group or our addresses change. Rate limited: at most one round per minIntervalMs;
// triggers in between are coalesced into one round at the end of the interval, which sends the
// state as it is then. stop() clears the timer.
import type { PeerId } from '@libp2p/interface'
import { DEFAULT_ANNOUNCE_MAX_PEERS, DEFAULT_ANNOUNCE_MIN_INTERVAL_MS } from '../constants.js'
import type { DiscoveryMetrics } from '../metrics.js'
import type { DiscoveryTimers, Logger } from '../types.js'

export interface AnnounceInit {
  /** Default true. */
  enabled?: boolean
  /** Best-scored connected peers each round goes to (K). */
  maxPeers?: number
  minIntervalMs?: number
}

export type AnnounceTrigger = 'group' | 'address'

export interface AnnouncerComponents {
  connectedPeers(): PeerId[]
  scoreOf(peer: PeerId): number
  /** Sends our current announcement to one peer. */
  send(peer: PeerId, signal: AbortSignal): Promise<void>
  clock: () => number
  timers: DiscoveryTimers
  metrics?: DiscoveryMetrics
  logger: Logger
}

export class Announcer {
  private readonly maxPeers: number
  private readonly minIntervalMs: number
  private lastRoundAtMs = -Infinity
  private pending: AnnounceTrigger | undefined
  private timer: unknown
  private round: Promise<number> | undefined
  private controller: AbortController | undefined

  constructor(
    private readonly components: AnnouncerComponents,
    init: AnnounceInit = {},
  ) {
    this.maxPeers = Math.max(0, init.maxPeers ?? DEFAULT_ANNOUNCE_MAX_PEERS)
    this.minIntervalMs = Math.max(0, init.minIntervalMs ?? DEFAULT_ANNOUNCE_MIN_INTERVAL_MS)
  }

  start(): void {
    this.controller ??= new AbortController()
  }

  stop(): void {
    this.controller?.abort()
    this.controller = undefined
    if (this.timer !== undefined) this.components.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.pending = undefined
  }

  /** Whether a coalesced round is waiting for the rate limit. */
  get deferred(): boolean {
    return this.timer !== undefined
  }

  /**
   * Asks for a round. Runs it now when the last one is at least minIntervalMs old (resolves with
   * the number of peers it reached), else defers it (resolves 0 at once).
   */
  async trigger(reason: AnnounceTrigger): Promise<number> {
    if (this.controller === undefined) return 0
    const wait = this.lastRoundAtMs + this.minIntervalMs - this.components.clock()
    if (this.round !== undefined || wait > 0) {
      this.pending ??= reason
      if (this.timer === undefined && this.round === undefined) this.deferTo(wait)
      return 0
    }
    return this.run(reason)
  }

  private deferTo(waitMs: number): void {
    this.timer = this.components.timers.setTimeout(() => {
      this.timer = undefined
      const reason = this.pending
      this.pending = undefined
      if (reason !== undefined) void this.trigger(reason)
    }, Math.max(0, waitMs))
  }

  private async run(reason: AnnounceTrigger): Promise<number> {
    const signal = this.controller!.signal
    this.lastRoundAtMs = this.components.clock()
    const round = this.sendAll(signal)
    this.round = round
    try {
      const reached = await round
      this.components.metrics?.announcesTotal.inc({ trigger: reason })
      return reached
    } finally {
      this.round = undefined
      // Triggers that came during the round are sent once the interval has passed.
      if (this.pending !== undefined && this.controller !== undefined && this.timer === undefined) {
        this.deferTo(this.lastRoundAtMs + this.minIntervalMs - this.components.clock())
      }
    }
  }

  private async sendAll(signal: AbortSignal): Promise<number> {
    const best = this.components
      .connectedPeers()
      .map((p) => ({ p, score: this.components.scoreOf(p) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, this.maxPeers)
    const results = await Promise.allSettled(best.map(async ({ p }) => this.components.send(p, signal)))
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.components.logger.debug({ peer: best[i].p.toString(), err: r.reason }, 'announcement not sent')
    })
    return results.filter((r) => r.status === 'fulfilled').length
  }
}
