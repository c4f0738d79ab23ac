// The periodic peer exchange: while fewer than `targetPeers` are connected, ask the best-scored
// connected peer (not asked within `peerCooldownMs`) for more. The period doubles after a round
// that learned nothing or failed, up to `maxBackoffMs`, and returns to `intervalMs` once a round
// learns a new peer or enough peers are connected. One round at a time; stop() leaves no timer.
import type { PeerId } from '@libp2p/interface'
import {
  DEFAULT_PERIODIC_EXCHANGE_INTERVAL_MS,
  DEFAULT_PERIODIC_EXCHANGE_LIMIT,
  DEFAULT_PERIODIC_EXCHANGE_MAX_BACKOFF_MS,
  DEFAULT_PERIODIC_EXCHANGE_PEER_COOLDOWN_MS,
  DEFAULT_PERIODIC_EXCHANGE_TARGET_PEERS,
  PERIODIC_EXCHANGE_MAX_ASKED,
} from '../constants.js'
import type { DiscoveryMetrics } from '../metrics.js'
import type { DiscoveryTimers, Logger } from '../types.js'

export interface PeriodicExchangeInit {
  /** Default true. */
  enabled?: boolean
  intervalMs?: number
  maxBackoffMs?: number
  /** Ask only while fewer peers than this are connected. */
  targetPeers?: number
  /** Peers asked for per round. */
  limit?: number
  peerCooldownMs?: number
}

export type PeriodicOutcome = 'learned' | 'nothing' | 'failed' | 'enough' | 'no_peer' | 'busy'

export interface PeriodicExchangeComponents {
  connectedPeers(): PeerId[]
  scoreOf(peer: PeerId): number
  /** Runs one exchange; resolves with the number of peers that were new to us. */
  exchange(peer: PeerId, limit: number, signal: AbortSignal): Promise<number>
  clock: () => number
  timers: DiscoveryTimers
  metrics?: DiscoveryMetrics
  logger: Logger
}

export class PeriodicExchange {
  private readonly cfg: Required<Omit<PeriodicExchangeInit, 'enabled'>>
  private readonly asked = new Map<string, number>()
  private timer: unknown
  private controller: AbortController | undefined
  private inFlight = false
  private delay: number

  constructor(
    private readonly components: PeriodicExchangeComponents,
    init: PeriodicExchangeInit = {},
  ) {
    this.cfg = {
      intervalMs: Math.max(1, init.intervalMs ?? DEFAULT_PERIODIC_EXCHANGE_INTERVAL_MS),
      maxBackoffMs: init.maxBackoffMs ?? DEFAULT_PERIODIC_EXCHANGE_MAX_BACKOFF_MS,
      targetPeers: init.targetPeers ?? DEFAULT_PERIODIC_EXCHANGE_TARGET_PEERS,
      limit: init.limit ?? DEFAULT_PERIODIC_EXCHANGE_LIMIT,
      peerCooldownMs: init.peerCooldownMs ?? DEFAULT_PERIODIC_EXCHANGE_PEER_COOLDOWN_MS,
    }
    this.delay = this.cfg.intervalMs
  }

  /** The delay before the next round (ms): intervalMs, or more after rounds that learned nothing. */
  get nextDelayMs(): number {
    return this.delay
  }

  start(): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.schedule()
  }

  stop(): void {
    this.controller?.abort()
    this.controller = undefined
    if (this.timer !== undefined) this.components.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.asked.clear()
    this.delay = this.cfg.intervalMs
  }

  /** One round (the timer calls it; tests call it directly). Never throws. */
  async tick(): Promise<PeriodicOutcome> {
    const signal = this.controller?.signal
    if (signal === undefined || this.inFlight) return 'busy'
    this.inFlight = true
    let outcome: PeriodicOutcome
    try {
      outcome = await this.round(signal)
    } finally {
      this.inFlight = false
    }
    this.delay = outcome === 'learned' || outcome === 'enough' ? this.cfg.intervalMs : Math.min(this.cfg.maxBackoffMs, this.delay * 2)
    this.components.metrics?.periodicExchangesTotal.inc({ outcome })
    return outcome
  }

  private async round(signal: AbortSignal): Promise<PeriodicOutcome> {
    const connected = this.components.connectedPeers()
    if (connected.length >= this.cfg.targetPeers) return 'enough'
    const now = this.components.clock()
    for (const [key, at] of this.asked) if (now - at >= this.cfg.peerCooldownMs) this.asked.delete(key)
    const peer = connected
      .filter((p) => !this.asked.has(p.toString()))
      .map((p) => ({ p, score: this.components.scoreOf(p) }))
      .sort((a, b) => b.score - a.score)[0]?.p
    if (peer === undefined) return 'no_peer'
    if (this.asked.size >= PERIODIC_EXCHANGE_MAX_ASKED) this.asked.delete(this.asked.keys().next().value as string)
    this.asked.set(peer.toString(), now)
    try {
      const learned = await this.components.exchange(peer, this.cfg.limit, signal)
      return learned > 0 ? 'learned' : 'nothing'
    } catch (err) {
      this.components.logger.debug({ peer: peer.toString(), err }, 'periodic peer exchange failed')
      return 'failed'
    }
  }

  private schedule(): void {
    if (this.controller === undefined) return
    this.timer = this.components.timers.setTimeout(() => {
      this.timer = undefined
      void this.tick().finally(() => this.schedule())
    }, this.delay)
  }
}
