// UDP loss probes beside the libp2p connection. One socket per node; per peer two sessions:
//  - inbound: we invited the peer (port, key, id over the Noise stream); its probes to us land in a
//    LossWindow, each authentic one is echoed with our counts, so the peer learns its outbound loss.
//  - outbound: the peer invited us; we send it probes at a bounded rate and read its echoes.
// A datagram is accepted only if its session id is known AND its HMAC verifies under that session's
// key; the source address is not trusted (NAT) and never used to pick a key.
import { randomBytes } from 'node:crypto'
import type { Clock, Scheduler, TimerHandle } from './clock.js'
import * as c from './constants.js'
import { LossWindow } from './loss-window.js'
import type { LossCounts, WindowCounts } from './loss-window.js'
import type { LinkMetrics, ProbeResult } from './metrics.js'
import { decodeProbe, encodeProbe, idKey, peekProbeId, PROBE_ID_BYTES, PROBE_KEY_BYTES, ProbeKind } from './probe-codec.js'
import type { ProbeSocket, RemoteInfo, UdpSocketFactory } from './udp-socket.js'

export interface ProbeInvitation {
  port: number
  key: Uint8Array
  id: Uint8Array
}

export interface ProberComponents {
  clock: Clock
  scheduler: Scheduler
  udpSocketFactory: UdpSocketFactory
  metrics?: LinkMetrics
  onError?(err: Error): void
}

export interface ProberInit {
  host?: string
  port?: number
  probeIntervalMs?: number
  maxProbesPerSec?: number
  maxEchoesPerSec?: number
  lossWindow?: number
  minLossSamples?: number
}

interface InboundSession {
  peer: string
  key: Uint8Array
  id: Uint8Array
  window: LossWindow
}

interface OutboundSession {
  peer: string
  host: string
  port: number
  key: Uint8Array
  id: Uint8Array
  seq: number
  /** The peer's latest counts of our probes (from an echo or a Pong). */
  reported?: WindowCounts
  /** Latest cumulative counts from an echo, and what they were at the last takeRecentLoss. */
  total?: { received: number; expected: number }
  totalMark?: { received: number; expected: number }
}

export class UdpProber {
  private readonly components: ProberComponents
  private readonly init: Required<ProberInit>
  private socket?: ProbeSocket
  private timer?: TimerHandle
  private readonly inboundById = new Map<string, InboundSession>()
  private readonly inboundByPeer = new Map<string, InboundSession>()
  private readonly inboundMarks = new Map<string, { received: number; expected: number }>()
  private readonly outboundByPeer = new Map<string, OutboundSession>()
  private readonly outboundById = new Map<string, OutboundSession>()
  private readonly remoteHosts = new Map<string, string>()
  private rotate = 0
  private echoTokens: number
  private echoRefillAt = 0

  constructor(components: ProberComponents, init: ProberInit = {}) {
    this.components = components
    this.init = {
      host: init.host ?? c.DEFAULT_PROBE_HOST,
      port: init.port ?? 0,
      probeIntervalMs: init.probeIntervalMs ?? c.DEFAULT_PROBE_INTERVAL_MS,
      maxProbesPerSec: init.maxProbesPerSec ?? c.DEFAULT_MAX_PROBES_PER_SEC,
      maxEchoesPerSec: init.maxEchoesPerSec ?? c.DEFAULT_MAX_ECHOES_PER_SEC,
      lossWindow: init.lossWindow ?? c.DEFAULT_LOSS_WINDOW,
      minLossSamples: init.minLossSamples ?? c.DEFAULT_MIN_LOSS_SAMPLES,
    }
    this.echoTokens = this.init.maxEchoesPerSec
  }

  /** The bound UDP port, or undefined when not started (or the socket could not be opened). */
  get port(): number | undefined {
    return this.socket?.port
  }

  async start(): Promise<void> {
    if (this.socket != null) return
    this.socket = await this.components.udpSocketFactory({
      host: this.init.host,
      port: this.init.port,
      onMessage: (buf, from) => this.onDatagram(buf, from),
      onError: (err) => {
        this.count('send_error')
        this.components.onError?.(err)
      },
    })
    this.echoRefillAt = this.components.clock()
    this.schedule()
  }

  async stop(): Promise<void> {
    if (this.timer != null) this.components.scheduler.clearTimeout(this.timer)
    this.timer = undefined
    const socket = this.socket
    this.socket = undefined
    this.inboundById.clear()
    this.inboundByPeer.clear()
    this.inboundMarks.clear()
    this.outboundByPeer.clear()
    this.outboundById.clear()
    this.remoteHosts.clear()
    await socket?.close()
  }

  /** Where the peer's connection comes from: the only host we will ever send its probes to. */
  setRemoteHost(peer: string, host: string | undefined): void {
    if (host == null || host === '') this.remoteHosts.delete(peer)
    else this.remoteHosts.set(peer, host)
  }

  /** Our invitation to `peer` (created once per session), or undefined when we have no socket. */
  invitation(peer: string): ProbeInvitation | undefined {
    if (this.socket == null) return undefined
    let s = this.inboundByPeer.get(peer)
    if (s == null) {
      s = { peer, key: randomBytes(PROBE_KEY_BYTES), id: randomBytes(PROBE_ID_BYTES), window: new LossWindow(this.init.lossWindow) }
      this.inboundByPeer.set(peer, s)
      this.inboundById.set(idKey(s.id), s)
    }
    return { port: this.socket.port, key: s.key, id: s.id }
  }

  /** The peer invited us to probe it. Ignored without a known remote host or with a bad invitation. */
  acceptInvitation(peer: string, inv: { port: number; key: Uint8Array; id: Uint8Array }): void {
    const host = this.remoteHosts.get(peer)
    if (host == null || inv.port <= 0 || inv.port > 65535) return
    if (inv.key.length !== PROBE_KEY_BYTES || inv.id.length !== PROBE_ID_BYTES) return
    const existing = this.outboundByPeer.get(peer)
    if (existing != null && existing.port === inv.port && existing.host === host && Buffer.compare(existing.key, inv.key) === 0 && Buffer.compare(existing.id, inv.id) === 0) return
    const k = idKey(inv.id)
    const clash = this.outboundById.get(k)
    // Another peer already uses this id: refuse rather than let one peer shadow another's session.
    if (clash != null && clash.peer !== peer) return
    if (existing != null) this.outboundById.delete(idKey(existing.id))
    const s: OutboundSession = { peer, host, port: inv.port, key: Uint8Array.from(inv.key), id: Uint8Array.from(inv.id), seq: 0 }
    this.outboundByPeer.set(peer, s)
    this.outboundById.set(k, s)
  }

  removePeer(peer: string): void {
    const inbound = this.inboundByPeer.get(peer)
    if (inbound != null) this.inboundById.delete(idKey(inbound.id))
    this.inboundByPeer.delete(peer)
    this.inboundMarks.delete(peer)
    const outbound = this.outboundByPeer.get(peer)
    if (outbound != null) this.outboundById.delete(idKey(outbound.id))
    this.outboundByPeer.delete(peer)
    this.remoteHosts.delete(peer)
  }

  /** Counts of the probes `peer` sent us, over our window. */
  inboundCounts(peer: string): LossCounts | undefined {
    return this.inboundByPeer.get(peer)?.window.counts()
  }

  /** The peer's latest report of the probes we sent it (from an echo or a Pong). */
  outboundCounts(peer: string): WindowCounts | undefined {
    return this.outboundByPeer.get(peer)?.reported
  }

  /** A loss report from a Pong (reliable path, for when every echo is lost). */
  reportOutbound(peer: string, counts: WindowCounts): void {
    const s = this.outboundByPeer.get(peer)
    if (s == null || counts.expected === 0) return
    s.reported = { received: counts.received, expected: counts.expected }
  }

  /** Inbound one-way loss (peer → us) over the window, once there are enough samples. */
  lossInbound(peer: string): number | undefined {
    return this.inboundByPeer.get(peer)?.window.loss(this.init.minLossSamples)
  }

  /** Outbound one-way loss (us → peer) as the peer measured it, once there are enough samples. */
  lossOutbound(peer: string): number | undefined {
    const r = this.outboundByPeer.get(peer)?.reported
    if (r == null || r.expected < this.init.minLossSamples) return undefined
    return Math.max(0, 1 - r.received / r.expected)
  }

  /** Loss in either direction since the previous call (worst direction), for the heartbeat. */
  takeRecentLoss(peer: string): number | undefined {
    let worst: number | undefined
    const inbound = this.inboundByPeer.get(peer)?.window.counts()
    if (inbound != null) {
      const mark = this.inboundMarks.get(peer) ?? { received: 0, expected: 0 }
      const de = inbound.totalExpected - mark.expected
      const dr = inbound.totalReceived - mark.received
      if (de > 0) worst = Math.max(0, 1 - dr / de)
      this.inboundMarks.set(peer, { received: inbound.totalReceived, expected: inbound.totalExpected })
    }
    const out = this.outboundByPeer.get(peer)
    if (out?.total != null) {
      const mark = out.totalMark ?? { received: 0, expected: 0 }
      const de = out.total.expected - mark.expected
      const dr = out.total.received - mark.received
      if (de > 0) worst = Math.max(worst ?? 0, 1 - dr / de)
      out.totalMark = { ...out.total }
    }
    return worst
  }

  private count(result: ProbeResult, n = 1): void {
    this.components.metrics?.probes.inc({ result }, n)
  }

  private schedule(): void {
    this.timer = this.components.scheduler.setTimeout(() => this.tick(), this.init.probeIntervalMs)
  }

  /** One probe per outbound session per tick, within the global cap (rotating who goes first). */
  private tick(): void {
    this.timer = undefined
    const socket = this.socket
    if (socket == null) return
    const sessions = [...this.outboundByPeer.values()]
    const budget = Math.max(1, Math.floor((this.init.maxProbesPerSec * this.init.probeIntervalMs) / 1000))
    const n = Math.min(budget, sessions.length)
    const now = this.components.clock()
    for (let i = 0; i < n; i++) {
      const s = sessions[(this.rotate + i) % sessions.length]
      const buf = encodeProbe({ kind: ProbeKind.Probe, id: s.id, seq: s.seq++, timestampMs: now, received: 0, expected: 0, totalReceived: 0, totalExpected: 0 }, s.key)
      socket.send(buf, s.port, s.host)
      this.count('sent')
    }
    if (sessions.length > 0) this.rotate = (this.rotate + n) % sessions.length
    this.schedule()
  }

  private takeEchoToken(): boolean {
    const now = this.components.clock()
    const elapsed = Math.max(0, now - this.echoRefillAt)
    this.echoRefillAt = now
    this.echoTokens = Math.min(this.init.maxEchoesPerSec, this.echoTokens + (elapsed * this.init.maxEchoesPerSec) / 1000)
    if (this.echoTokens < 1) return false
    this.echoTokens -= 1
    return true
  }

  private onDatagram(buf: Uint8Array, from: RemoteInfo): void {
    const id = peekProbeId(buf)
    if (id == null) {
      this.count('dropped_malformed')
      return
    }
    const kind = buf[1] as ProbeKind
    const k = idKey(id)
    if (kind === ProbeKind.Probe) {
      const s = this.inboundById.get(k)
      if (s == null) return this.count('dropped_unknown_session')
      const d = decodeProbe(buf, s.key)
      if (d == null || d.kind !== ProbeKind.Probe) return this.count('dropped_unauthenticated')
      if (!s.window.record(d.seq)) return this.count('dropped_duplicate')
      this.count('received')
      if (!this.takeEchoToken()) return this.count('dropped_rate_limited')
      const counts = s.window.counts()
      const echo = encodeProbe({ kind: ProbeKind.Echo, id: s.id, seq: d.seq, timestampMs: d.timestampMs, ...counts }, s.key)
      this.socket?.send(echo, from.port, from.address)
      this.count('echo_sent')
    } else {
      const s = this.outboundById.get(k)
      if (s == null) return this.count('dropped_unknown_session')
      const d = decodeProbe(buf, s.key)
      if (d == null || d.kind !== ProbeKind.Echo) return this.count('dropped_unauthenticated')
      this.count('echo_received')
      // Echoes may arrive out of order: keep the report that covers the most probes.
      if (s.total == null || d.totalExpected >= s.total.expected) {
        s.total = { received: d.totalReceived, expected: d.totalExpected }
        s.reported = { received: d.received, expected: d.expected }
      }
    }
  }
}
