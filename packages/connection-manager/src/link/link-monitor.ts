// LinkMonitor: per-peer link metrics (RTT, one-way loss, throughput) and the adaptive heartbeat.
// Pings and pongs travel as CONTROL messages on /cpc/1.0.0 through components.sendControl (the
// channel is someone else's); loss comes from authenticated UDP probes beside the connection (see
// prober.ts and README.md), with lost pings as the fallback when no probe path exists.
import { TypedEventEmitter } from '@libp2p/interface'
import type { PeerId } from '@libp2p/interface'
import type { Control, Pong } from '@cpc/protocol'
import { systemClock, systemScheduler } from './clock.js'
import type { Clock, Scheduler, TimerHandle } from './clock.js'
import * as c from './constants.js'
import { HeartbeatPolicy } from './heartbeat.js'
import type { HeartbeatVerdict } from './heartbeat.js'
import type { LinkMetrics } from './metrics.js'
import { UdpProber } from './prober.js'
import { RttTracker } from './rtt.js'
import { ThroughputMeter } from './throughput.js'
import { nodeUdpSocketFactory } from './udp-socket.js'
import type { UdpSocketFactory } from './udp-socket.js'

/** The slice of @cpc/scoring's tracker that link metrics feed. */
export interface LinkScorer {
  rtt(peer: string, ms: number): void
  requestTimedOut(peer: string): void
  requestAnswered(peer: string): void
}

/** pino-compatible. */
export interface LinkLogger {
  debug(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface LinkMonitorComponents {
  sendControl(peer: PeerId, control: Control, options?: { signal?: AbortSignal }): Promise<void>
  /** Monotonic byte counters of the peer's /cpc/1.0.0 streams (from CpcChannel). */
  bytesCounters?: (peer: PeerId) => { in: number; out: number } | undefined
  clock?: Clock
  scheduler?: Scheduler
  metrics?: LinkMetrics
  scorer?: LinkScorer
  /** The UDP seam; null disables probes (loss then comes from lost pings). */
  udpSocketFactory?: UdpSocketFactory | null
  logger?: LinkLogger
}

export interface LinkMonitorInit {
  minIntervalMs?: number
  maxIntervalMs?: number
  initialIntervalMs?: number
  growthFactor?: number
  shrinkFactor?: number
  healthyPingsToGrow?: number
  pingTimeoutMs?: number
  jitterThresholdMs?: number
  lossThreshold?: number
  rttAlpha?: number
  rttSamples?: number
  throughputTauMs?: number
  /** UDP probe socket bind address: the host of the libp2p TCP listener. */
  probeHost?: string
  probePort?: number
  probeIntervalMs?: number
  maxProbesPerSec?: number
  maxEchoesPerSec?: number
  lossWindow?: number
  minLossSamples?: number
  pingLossWindow?: number
}

export type LossSource = 'probe' | 'ping' | 'none'

export interface LinkStats {
  rttMsEwma: number
  /** One-way loss of the worse direction, 0..1 (see README.md). */
  lossRatio: number
  bytesInPerSec: number
  bytesOutPerSec: number
  heartbeatIntervalMs: number
  /** Probe loss peer → us, when measured. */
  lossInbound?: number
  /** Probe loss us → peer, as the peer reported it, when measured. */
  lossOutbound?: number
  lossSource: LossSource
  /** Probes behind lossInbound / lossOutbound (the confidence of the figures: sd = sqrt(p(1-p)/n)). */
  lossSamples: { inbound: number; outbound: number }
  jitterMs: number
}

export interface LinkMonitorEvents {
  'link:stats': CustomEvent<{ peer: PeerId; stats: LinkStats }>
}

interface Outstanding {
  sentAt: number
  timeout: TimerHandle
}

interface PeerLink {
  peer: PeerId
  key: string
  policy: HeartbeatPolicy
  rtt: RttTracker
  bytesIn: ThroughputMeter
  bytesOut: ThroughputMeter
  nextSeq: bigint
  outstanding: Map<bigint, Outstanding>
  pingOutcomes: boolean[]
  timer?: TimerHandle
  nextAt?: number
  /** Smoothed per-heartbeat probe loss: the heartbeat's loss signal (see README.md). */
  recentLoss: number
}

/** Pings in flight per peer beyond which the oldest is written off (timeouts normally keep it far lower). */
const MAX_OUTSTANDING = 32
/** RTT samples the jitter verdict looks at: recent enough that one old spike is forgotten quickly. */
const JITTER_VERDICT_SAMPLES = 4
/** EWMA weight of one heartbeat period's probe loss in the heartbeat's loss signal. */
const RECENT_LOSS_WEIGHT = 0.3

export class LinkMonitor extends TypedEventEmitter<LinkMonitorEvents> {
  private readonly components: LinkMonitorComponents
  private readonly clock: Clock
  private readonly scheduler: Scheduler
  private readonly init: Required<Omit<LinkMonitorInit, 'probeHost' | 'probePort' | 'probeIntervalMs' | 'maxProbesPerSec' | 'maxEchoesPerSec' | 'lossWindow' | 'minLossSamples'>>
  private readonly prober?: UdpProber
  private readonly peers = new Map<string, PeerLink>()
  private abort = new AbortController()
  private started = false

  constructor(components: LinkMonitorComponents, init: LinkMonitorInit = {}) {
    super()
    this.components = components
    this.clock = components.clock ?? systemClock
    this.scheduler = components.scheduler ?? systemScheduler
    const minIntervalMs = init.minIntervalMs ?? c.DEFAULT_MIN_INTERVAL_MS
    this.init = {
      minIntervalMs,
      maxIntervalMs: init.maxIntervalMs ?? c.DEFAULT_MAX_INTERVAL_MS,
      initialIntervalMs: init.initialIntervalMs ?? minIntervalMs,
      growthFactor: init.growthFactor ?? c.DEFAULT_GROWTH_FACTOR,
      shrinkFactor: init.shrinkFactor ?? c.DEFAULT_SHRINK_FACTOR,
      healthyPingsToGrow: init.healthyPingsToGrow ?? c.DEFAULT_HEALTHY_PINGS_TO_GROW,
      pingTimeoutMs: init.pingTimeoutMs ?? c.DEFAULT_PING_TIMEOUT_MS,
      jitterThresholdMs: init.jitterThresholdMs ?? c.DEFAULT_JITTER_THRESHOLD_MS,
      lossThreshold: init.lossThreshold ?? c.DEFAULT_LOSS_THRESHOLD,
      rttAlpha: init.rttAlpha ?? c.DEFAULT_RTT_ALPHA,
      rttSamples: init.rttSamples ?? c.DEFAULT_RTT_SAMPLES,
      throughputTauMs: init.throughputTauMs ?? c.DEFAULT_THROUGHPUT_TAU_MS,
      pingLossWindow: init.pingLossWindow ?? c.DEFAULT_PING_LOSS_WINDOW,
    }
    const factory = components.udpSocketFactory === undefined ? nodeUdpSocketFactory : components.udpSocketFactory
    if (factory != null) {
      this.prober = new UdpProber(
        {
          clock: this.clock,
          scheduler: this.scheduler,
          udpSocketFactory: factory,
          metrics: components.metrics,
          onError: (err) => components.logger?.debug({ err }, 'link probe socket error'),
        },
        {
          host: init.probeHost,
          port: init.probePort,
          probeIntervalMs: init.probeIntervalMs,
          maxProbesPerSec: init.maxProbesPerSec,
          maxEchoesPerSec: init.maxEchoesPerSec,
          lossWindow: init.lossWindow,
          minLossSamples: init.minLossSamples,
        },
      )
    }
  }

  /** The local UDP probe port, when probes are running. */
  get probePort(): number | undefined {
    return this.prober?.port
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.abort = new AbortController()
    try {
      await this.prober?.start()
    } catch (err) {
      // No probe socket (port in use, no permission): keep going on ping loss alone.
      this.components.logger?.warn({ err }, 'link probes disabled: cannot open UDP socket')
    }
    this.components.metrics?.setLossSource(() => [...this.peers.values()].map((l) => this.computeStats(l).lossRatio))
    this.components.metrics?.setIntervalSource(() => [...this.peers.values()].map((l) => l.policy.intervalMs))
    for (const link of this.peers.values()) this.scheduleTick(link, 0)
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.abort.abort()
    for (const link of this.peers.values()) this.clearTimers(link)
    this.components.metrics?.setLossSource(undefined)
    this.components.metrics?.setIntervalSource(undefined)
    await this.prober?.stop()
  }

  addPeer(peer: PeerId, options: { remoteHost?: string } = {}): void {
    const key = peer.toString()
    this.prober?.setRemoteHost(key, options.remoteHost)
    if (this.peers.has(key)) return
    const link: PeerLink = {
      peer,
      key,
      policy: new HeartbeatPolicy(this.init),
      rtt: new RttTracker(this.init.rttAlpha, this.init.rttSamples),
      bytesIn: new ThroughputMeter(this.init.throughputTauMs),
      bytesOut: new ThroughputMeter(this.init.throughputTauMs),
      nextSeq: 1n,
      outstanding: new Map(),
      pingOutcomes: [],
      recentLoss: 0,
    }
    this.peers.set(key, link)
    if (this.started) this.scheduleTick(link, 0)
  }

  removePeer(peer: PeerId): void {
    const key = peer.toString()
    const link = this.peers.get(key)
    if (link != null) this.clearTimers(link)
    this.peers.delete(key)
    this.prober?.removePeer(key)
  }

  /** Entry point for CONTROL messages from `peer` (the channel verified the envelope). */
  handleControl(peer: PeerId, control: Control): void {
    const kind = control.kind
    if (kind?.$case === 'ping') this.onPing(peer, kind.value)
    else if (kind?.$case === 'pong') this.onPong(peer, kind.value)
  }

  stats(peer: PeerId): LinkStats | undefined {
    const link = this.peers.get(peer.toString())
    return link == null ? undefined : this.computeStats(link)
  }

  private computeStats(link: PeerLink): LinkStats {
    const lossInbound = this.prober?.lossInbound(link.key)
    const lossOutbound = this.prober?.lossOutbound(link.key)
    let lossRatio = 0
    let lossSource: LossSource = 'none'
    if (lossInbound != null || lossOutbound != null) {
      lossRatio = Math.max(lossInbound ?? 0, lossOutbound ?? 0)
      lossSource = 'probe'
    } else if (link.pingOutcomes.length > 0) {
      lossRatio = link.pingOutcomes.filter((ok) => !ok).length / link.pingOutcomes.length
      lossSource = 'ping'
    }
    return {
      rttMsEwma: link.rtt.value ?? 0,
      lossRatio,
      bytesInPerSec: link.bytesIn.bytesPerSec,
      bytesOutPerSec: link.bytesOut.bytesPerSec,
      heartbeatIntervalMs: link.policy.intervalMs,
      lossInbound,
      lossOutbound,
      lossSource,
      lossSamples: { inbound: this.prober?.inboundCounts(link.key)?.expected ?? 0, outbound: this.prober?.outboundCounts(link.key)?.expected ?? 0 },
      jitterMs: link.rtt.jitter(),
    }
  }

  private clearTimers(link: PeerLink): void {
    if (link.timer != null) this.scheduler.clearTimeout(link.timer)
    link.timer = undefined
    link.nextAt = undefined
    for (const o of link.outstanding.values()) this.scheduler.clearTimeout(o.timeout)
    link.outstanding.clear()
  }

  private scheduleTick(link: PeerLink, delayMs: number): void {
    if (link.timer != null) this.scheduler.clearTimeout(link.timer)
    link.nextAt = this.clock() + delayMs
    link.timer = this.scheduler.setTimeout(() => this.tick(link), delayMs)
  }

  private tick(link: PeerLink): void {
    link.timer = undefined
    if (!this.started || this.peers.get(link.key) !== link) return
    const now = this.clock()
    this.sampleThroughput(link, now)

    const seq = link.nextSeq++
    if (link.outstanding.size >= MAX_OUTSTANDING) {
      const [oldest] = link.outstanding.keys()
      this.onTimeout(link, oldest)
    }
    const timeout = this.scheduler.setTimeout(() => this.onTimeout(link, seq), this.init.pingTimeoutMs)
    link.outstanding.set(seq, { sentAt: now, timeout })
    const inv = this.prober?.invitation(link.key)
    const control: Control = {
      kind: {
        $case: 'ping',
        value: { seq, sentAtMs: BigInt(Math.floor(now)), probePort: inv?.port ?? 0, probeKey: inv?.key ?? new Uint8Array(0), probeId: inv?.id ?? new Uint8Array(0) },
      },
    }
    this.components.metrics?.pings.inc({ result: 'sent' })
    this.components.metrics?.heartbeatInterval.observe(link.policy.intervalMs / 1000)
    this.send(link.peer, control)
    this.scheduleTick(link, link.policy.intervalMs)
  }

  private sampleThroughput(link: PeerLink, now: number): void {
    const counters = this.components.bytesCounters?.(link.peer)
    if (counters == null) return
    const dIn = link.bytesIn.sample(now, counters.in)
    const dOut = link.bytesOut.sample(now, counters.out)
    if (dIn > 0) this.components.metrics?.bytes.inc({ direction: 'in' }, dIn)
    if (dOut > 0) this.components.metrics?.bytes.inc({ direction: 'out' }, dOut)
  }

  private send(peer: PeerId, control: Control): void {
    this.components.sendControl(peer, control, { signal: this.abort.signal }).catch((err: unknown) => {
      // A ping that could not be written shows up as a timeout; nothing else to do here.
      this.components.logger?.debug({ peer: peer.toString(), err }, 'link control send failed')
    })
  }

  private onPing(peer: PeerId, ping: { seq: bigint; sentAtMs: bigint; probePort: number; probeKey: Uint8Array; probeId: Uint8Array }): void {
    const key = peer.toString()
    const known = this.peers.has(key)
    if (known) this.prober?.acceptInvitation(key, { port: ping.probePort, key: ping.probeKey, id: ping.probeId })
    const inv = known ? this.prober?.invitation(key) : undefined
    const counts = known ? this.prober?.inboundCounts(key) : undefined
    const pong: Pong = {
      seq: ping.seq,
      pingSentAtMs: ping.sentAtMs,
      sentAtMs: BigInt(Math.floor(this.clock())),
      probePort: inv?.port ?? 0,
      probeKey: inv?.key ?? new Uint8Array(0),
      probeId: inv?.id ?? new Uint8Array(0),
      probesReceived: counts?.received ?? 0,
      probesExpected: counts?.expected ?? 0,
    }
    if (this.started) this.send(peer, { kind: { $case: 'pong', value: pong } })
  }

  private onPong(peer: PeerId, pong: Pong): void {
    const link = this.peers.get(peer.toString())
    const pending = link?.outstanding.get(pong.seq)
    if (link == null || pending == null) {
      // Late (already timed out), duplicated or never sent: no RTT from it.
      this.components.metrics?.pings.inc({ result: 'unknown_pong' })
      return
    }
    this.scheduler.clearTimeout(pending.timeout)
    link.outstanding.delete(pong.seq)
    // RTT from our own record of the send time: the echoed ping_sent_at_ms is the peer's to corrupt.
    const rttMs = Math.max(0, this.clock() - pending.sentAt)
    link.rtt.add(rttMs)
    this.recordPingOutcome(link, true)
    this.components.metrics?.pings.inc({ result: 'answered' })
    this.components.metrics?.rtt.observe(rttMs / 1000)
    this.components.scorer?.rtt(link.key, rttMs)
    this.components.scorer?.requestAnswered(link.key)

    this.prober?.acceptInvitation(link.key, { port: pong.probePort, key: pong.probeKey, id: pong.probeId })
    this.prober?.reportOutbound(link.key, { received: pong.probesReceived, expected: pong.probesExpected })

    // Per-period loss is noisy (a 1 s period holds ~10 probes, so 5% loss often shows as 0):
    // smooth it, so a steadily lossy link does not look healthy three periods in a row.
    const periodLoss = this.prober?.takeRecentLoss(link.key)
    if (periodLoss != null) link.recentLoss += RECENT_LOSS_WEIGHT * (periodLoss - link.recentLoss)
    let verdict: HeartbeatVerdict = 'healthy'
    if (periodLoss != null && (periodLoss > this.init.lossThreshold || link.recentLoss > this.init.lossThreshold)) verdict = 'loss'
    else if (link.rtt.jitter(JITTER_VERDICT_SAMPLES) > this.init.jitterThresholdMs) verdict = 'jitter'
    this.applyVerdict(link, verdict)
  }

  private onTimeout(link: PeerLink, seq: bigint): void {
    const pending = link.outstanding.get(seq)
    if (pending == null) return
    this.scheduler.clearTimeout(pending.timeout)
    link.outstanding.delete(seq)
    this.recordPingOutcome(link, false)
    this.components.metrics?.pings.inc({ result: 'timed_out' })
    this.components.scorer?.requestTimedOut(link.key)
    this.applyVerdict(link, 'loss')
  }

  private recordPingOutcome(link: PeerLink, answered: boolean): void {
    link.pingOutcomes.push(answered)
    if (link.pingOutcomes.length > this.init.pingLossWindow) link.pingOutcomes.shift()
  }

  private applyVerdict(link: PeerLink, verdict: HeartbeatVerdict): void {
    const interval = link.policy.observe(verdict)
    // A shorter interval takes effect now, not after the long wait already scheduled.
    if (this.started && link.timer != null && link.nextAt != null) {
      const remaining = link.nextAt - this.clock()
      if (remaining > interval) this.scheduleTick(link, interval)
    }
    this.safeDispatch(link)
  }

  private safeDispatch(link: PeerLink): void {
    this.safeDispatchEvent('link:stats', { detail: { peer: link.peer, stats: this.computeStats(link) } })
  }
}
