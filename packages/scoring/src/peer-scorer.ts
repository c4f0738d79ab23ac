// PeerScorer: per-peer scores from connection and request events. Pure logic: no timers, no I/O;
// time comes from the injected clock and decay is computed lazily on each event or read.
import { TypedEventEmitter } from '@libp2p/interface'
import { resolveConfig } from './config.js'
import type { ScoringConfig } from './config.js'
import { STATE_VERSION } from './constants.js'
import { InvalidScoringInputError, UnknownPeerError } from './errors.js'
import type { ScoringMetrics } from './metrics.js'
import { byCompositeAsc, byCompositeDesc, top } from './ranking.js'
import { parseState } from './state.js'
import { advance, combine, newPeerState, rttQuality, snapshot, terms } from './terms.js'
import type { PeerScoreSnapshot, PeerScorerEvents, PeerStateJSON, PenaltyKind, ScoringInit, ScoringStateJSON } from './types.js'
import { PENALTY_KINDS } from './types.js'

export interface ScoringComponents {
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number
  metrics?: ScoringMetrics
}

export interface DisconnectOptions {
  /** True when the connection was lost (error, reset, timeout) rather than closed on purpose. */
  error?: boolean
}

export interface PruneOptions {
  /** Never returned (bootstrap, relays, peers with queued HIGH traffic). */
  protected?: Iterable<string>
}

export interface RelayCandidateOptions {
  /** Only these peers (e.g. the ones that advertise the relay hop protocol). Default: all tracked. */
  among?: Iterable<string>
  /** Include peers that are not connected right now (default false). */
  includeDisconnected?: boolean
  filter?: (score: PeerScoreSnapshot) => boolean
}

export interface ImportOptions {
  /**
   * Treat peers saved as connected as cleanly disconnected at savedAtMs (default true): after a
   * restart nothing is connected yet, and the connection manager reports connections again.
   */
  resetConnections?: boolean
}

type ScoringEventLabel = 'connected' | 'disconnected' | 'dial_succeeded' | 'dial_failed' | 'rtt' | 'request_answered' | 'request_timed_out' | 'penalty'

interface Emitted {
  composite: number
  atMs: number
}

export class PeerScorer extends TypedEventEmitter<PeerScorerEvents> {
  private readonly clock: () => number
  private readonly metrics?: ScoringMetrics
  private readonly cfg: ScoringConfig
  private readonly peers = new Map<string, PeerStateJSON>()
  /** Last composite announced per peer; same keys as `peers`, so bounded by maxPeers. */
  private readonly emitted = new Map<string, Emitted>()

  constructor(components: ScoringComponents = {}, init: ScoringInit = {}) {
    super()
    this.clock = components.clock ?? Date.now
    this.metrics = components.metrics
    this.cfg = resolveConfig(init)
    this.metrics?.onCollect(() => {
      this.metrics?.peerScore.reset()
      for (const s of this.list()) this.metrics?.peerScore.observe(s.composite)
    })
  }

  static fromState(components: ScoringComponents, init: ScoringInit, state: unknown, options?: ImportOptions): PeerScorer {
    const scorer = new PeerScorer(components, init)
    scorer.importState(state, options)
    return scorer
  }

  /** The resolved configuration (defaults applied). */
  get config(): Readonly<ScoringConfig> {
    return this.cfg
  }

  get size(): number {
    return this.peers.size
  }

  has(peerId: string): boolean {
    return this.peers.has(peerId)
  }

  // ---- events (called by the connection manager and the router) ----

  connected(peerId: string): void {
    this.record(peerId, 'connected', (s) => {
      s.mode = 'up'
    })
  }

  disconnected(peerId: string, options: DisconnectOptions = {}): void {
    this.record(peerId, 'disconnected', (s) => {
      if (options.error === true) {
        s.stabBad += this.cfg.errorDisconnectWeight
        s.mode = 'down'
      } else {
        s.stabBad += this.cfg.cleanDisconnectWeight
        s.mode = 'idle'
      }
    })
  }

  dialSucceeded(peerId: string): void {
    this.record(peerId, 'dial_succeeded', (s) => {
      s.stabGood += this.cfg.dialSuccessWeight
    })
  }

  dialFailed(peerId: string): void {
    this.record(peerId, 'dial_failed', (s) => {
      s.stabBad += this.cfg.dialFailureWeight
      if (s.mode !== 'up') s.mode = 'down'
    })
  }

  /** One round-trip time measurement (CONTROL ping/pong), in ms. */
  rtt(peerId: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new InvalidScoringInputError(`rtt must be a finite number >= 0, got ${ms}`)
    this.record(peerId, 'rtt', (s) => {
      const q = rttQuality(ms, this.cfg.targetRttMs)
      s.respGood += this.cfg.rttSampleWeight * q
      s.respBad += this.cfg.rttSampleWeight * (1 - q)
    })
  }

  requestAnswered(peerId: string): void {
    this.record(peerId, 'request_answered', (s) => {
      s.respGood += this.cfg.requestWeight
    })
  }

  requestTimedOut(peerId: string): void {
    this.record(peerId, 'request_timed_out', (s) => {
      s.respBad += this.cfg.timeoutWeight
    })
  }

  /** Adds `points` penalty points (default: penaltyWeights[kind]), capped at maxPenalty. */
  penalize(peerId: string, kind: PenaltyKind, points: number = this.cfg.penaltyWeights[kind]): void {
    if (!PENALTY_KINDS.includes(kind)) throw new InvalidScoringInputError(`unknown penalty kind ${String(kind)}`)
    if (!Number.isFinite(points) || points < 0) throw new InvalidScoringInputError(`penalty points must be a finite number >= 0, got ${points}`)
    this.record(peerId, 'penalty', (s) => {
      s.penalty = Math.min(this.cfg.maxPenalty, s.penalty + points)
    })
    this.metrics?.penaltiesTotal.inc({ kind })
  }

  /** Drops a peer's state now (e.g. an operator reset). */
  forget(peerId: string): boolean {
    return this.remove(peerId, undefined)
  }

  // ---- queries ----

  /** The peer's score now; a neutral, `known: false` snapshot for a peer not tracked. */
  score(peerId: string): PeerScoreSnapshot {
    return this.get(peerId) ?? snapshot(newPeerState(peerId, this.clock()), this.cfg, false)
  }

  /** The peer's score now, or undefined when it is not tracked. */
  get(peerId: string): PeerScoreSnapshot | undefined {
    const s = this.peers.get(peerId)
    return s === undefined ? undefined : snapshot(advance(s, this.now(s), this.cfg), this.cfg)
  }

  /** Like get(), but throws UnknownPeerError for a peer not tracked. */
  require(peerId: string): PeerScoreSnapshot {
    const s = this.get(peerId)
    if (s === undefined) throw new UnknownPeerError(peerId)
    return s
  }

  composite(peerId: string): number {
    return this.score(peerId).composite
  }

  /** All tracked peers, best first. */
  list(): PeerScoreSnapshot[] {
    return [...this.peers.values()].map((s) => snapshot(advance(s, this.now(s), this.cfg), this.cfg)).sort(byCompositeDesc)
  }

  /** The `n` best tracked peers (highest composite first) that pass `filter`. */
  best(n: number, filter?: (score: PeerScoreSnapshot) => boolean): PeerScoreSnapshot[] {
    const all = this.list()
    return top(filter === undefined ? all : all.filter(filter), n, byCompositeDesc)
  }

  /**
   * Of `peers` (typically the connected ones), the `n` to prune first: lowest composite first,
   * protected peers never. Untracked peers score neutral.
   */
  pruneCandidates(peers: Iterable<string>, n: number, options: PruneOptions = {}): PeerScoreSnapshot[] {
    const protectedSet = new Set(options.protected ?? [])
    const candidates = new Map<string, PeerScoreSnapshot>()
    for (const p of peers) if (!protectedSet.has(p) && !candidates.has(p)) candidates.set(p, this.score(p))
    return top([...candidates.values()], n, byCompositeAsc)
  }

  /**
   * The `n` best relay candidates: connected (unless includeDisconnected), carrying fewer than
   * relayMaxPenalty points, ranked by the composite under relayWeights (uptime and stability
   * first). The returned snapshots carry that relay composite.
   */
  relayCandidates(n: number, options: RelayCandidateOptions = {}): PeerScoreSnapshot[] {
    const ids = options.among === undefined ? [...this.peers.keys()] : [...new Set(options.among)]
    const out: PeerScoreSnapshot[] = []
    for (const id of ids) {
      const s = this.peers.get(id)
      if (s === undefined) continue
      const now = advance(s, this.now(s), this.cfg)
      if (now.mode !== 'up' && options.includeDisconnected !== true) continue
      if (now.penalty >= this.cfg.relayMaxPenalty) continue
      const snap = snapshot(now, this.cfg)
      const relay = { ...snap, composite: combine(terms(now, this.cfg), now.penalty, this.cfg.relayWeights, this.cfg.penaltyScale) }
      if (options.filter === undefined || options.filter(relay)) out.push(relay)
    }
    return top(out, n, byCompositeDesc)
  }

  // ---- retention ----

  /**
   * Forgets peers that are not connected, had no event for retentionMs and carry fewer than
   * retainPenaltyThreshold points. Call it periodically (the owner's timer, not ours).
   * Returns how many were forgotten.
   */
  gc(): number {
    const now = this.clock()
    let n = 0
    for (const s of [...this.peers.values()]) {
      if (s.mode === 'up' || now - s.atMs < this.cfg.retentionMs) continue
      if (advance(s, now, this.cfg).penalty >= this.cfg.retainPenaltyThreshold) continue
      if (this.remove(s.peerId, 'retention')) n++
    }
    return n
  }

  // ---- persistence ----

  /** Plain JSON (numbers and strings only): safe for JSON.stringify. */
  exportState(): ScoringStateJSON {
    return { version: STATE_VERSION, savedAtMs: this.clock(), peers: [...this.peers.values()].map((s) => ({ ...s })) }
  }

  toJSON(): ScoringStateJSON {
    return this.exportState()
  }

  /**
   * Replaces all state with `state` (validated; throws InvalidScoringStateError). Peers beyond
   * maxPeers are dropped, least recently active first.
   */
  importState(state: unknown, options: ImportOptions = {}): void {
    const parsed = parseState(state)
    let peers = parsed.peers
    if (peers.length > this.cfg.maxPeers) {
      const keep = new Set([...peers].sort((a, b) => b.atMs - a.atMs).slice(0, this.cfg.maxPeers))
      peers = peers.filter((p) => keep.has(p))
    }
    this.peers.clear()
    this.emitted.clear()
    for (const p of peers) {
      let s = p
      if (options.resetConnections !== false && s.mode === 'up') {
        s = advance(s, Math.max(s.atMs, parsed.savedAtMs), this.cfg)
        s.mode = 'idle'
      }
      this.peers.set(s.peerId, s)
      this.emitted.set(s.peerId, { composite: snapshot(s, this.cfg).composite, atMs: -Infinity })
    }
    this.metrics?.scoredPeers.set(this.peers.size)
  }

  // ---- internals ----

  /** The clock, never behind the state's own time (a clock stepping back does not rewind scores). */
  private now(s: PeerStateJSON): number {
    return Math.max(s.atMs, this.clock())
  }

  private record(peerId: string, event: ScoringEventLabel, apply: (s: PeerStateJSON) => void): void {
    if (typeof peerId !== 'string' || peerId === '') throw new InvalidScoringInputError('peerId must be a non-empty string')
    const existing = this.peers.get(peerId)
    const s = existing === undefined ? this.insert(peerId) : advance(existing, this.now(existing), this.cfg)
    apply(s)
    this.peers.set(peerId, s)
    this.metrics?.scoringEventsTotal.inc({ event })
    this.maybeEmit(s)
  }

  private insert(peerId: string): PeerStateJSON {
    while (this.peers.size >= this.cfg.maxPeers) this.evictOne()
    const s = newPeerState(peerId, this.clock())
    this.peers.set(peerId, s)
    this.emitted.set(peerId, { composite: snapshot(s, this.cfg).composite, atMs: -Infinity })
    this.metrics?.scoredPeers.set(this.peers.size)
    return s
  }

  /**
   * Evicts the least valuable peer: disconnected before connected, unpenalized before penalized
   * (penalties are what we must not forget), then least recently active.
   */
  private evictOne(): void {
    const now = this.clock()
    let victim: PeerStateJSON | undefined
    let victimRank = Infinity
    for (const s of this.peers.values()) {
      const penalized = advance(s, now, this.cfg).penalty >= this.cfg.retainPenaltyThreshold
      const rank = (s.mode === 'up' ? 2 : 0) + (penalized ? 1 : 0)
      if (rank < victimRank || (rank === victimRank && victim !== undefined && s.atMs < victim.atMs)) {
        victim = s
        victimRank = rank
      }
    }
    if (victim !== undefined) this.remove(victim.peerId, 'evicted')
  }

  private remove(peerId: string, reason: 'retention' | 'evicted' | undefined): boolean {
    if (!this.peers.delete(peerId)) return false
    this.emitted.delete(peerId)
    this.metrics?.scoredPeers.set(this.peers.size)
    if (reason !== undefined) {
      this.metrics?.forgottenPeersTotal.inc({ reason })
      this.safeDispatchEvent('peer:forgotten', { detail: { peerId, reason } })
    }
    return true
  }

  private maybeEmit(s: PeerStateJSON): void {
    const snap = snapshot(s, this.cfg)
    const last = this.emitted.get(s.peerId)
    if (last !== undefined) {
      if (Math.abs(snap.composite - last.composite) <= this.cfg.changeEpsilon) return
      if (s.atMs - last.atMs < this.cfg.changeMinIntervalMs) return
    }
    this.emitted.set(s.peerId, { composite: snap.composite, atMs: s.atMs })
    this.metrics?.scoreChangesTotal.inc()
    this.safeDispatchEvent('score:changed', { detail: { peerId: s.peerId, score: snap } })
  }
}
