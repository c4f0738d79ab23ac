// Dials discovered peers (libp2p v3 does not): through the connection manager when there is one
// (its backoff, state machine and pooling), else libp2p.dial. Bounded queue and concurrency.
import { setMaxListeners } from 'node:events'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DiscoveryMetrics } from './metrics.js'
import type { DiscoveryConnectionManager, DiscoveryLibp2p, DiscoveryScorer, DiscoverySourceName, Logger } from './types.js'

export interface DialerInit {
  maxParallel: number
  maxQueue: number
  timeoutMs: number
}

interface Job {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  source: DiscoverySourceName
}

export class Dialer {
  private readonly queue: Job[] = []
  private readonly queued = new Set<string>()
  private running = 0
  private controller: AbortController | undefined
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly components: {
      libp2p: DiscoveryLibp2p
      connectionManager?: DiscoveryConnectionManager
      scorer?: DiscoveryScorer
      metrics?: DiscoveryMetrics
      logger: Logger
    },
    private readonly init: DialerInit,
  ) {}

  start(): void {
    this.controller = new AbortController()
    setMaxListeners(Infinity, this.controller.signal)
  }

  stop(): void {
    this.controller?.abort()
    this.controller = undefined
    this.queue.length = 0
    this.queued.clear()
  }

  /** Queues a dial unless the peer is connected, already queued, or the queue is full. */
  enqueue(peerId: PeerId, multiaddrs: Multiaddr[], source: DiscoverySourceName): void {
    const key = peerId.toString()
    if (this.controller === undefined || this.queued.has(key)) return
    if (peerId.equals(this.components.libp2p.peerId) || this.isConnected(peerId) || this.queue.length >= this.init.maxQueue) {
      this.components.metrics?.dialsTotal.inc({ source, outcome: 'skipped' })
      return
    }
    this.queued.add(key)
    this.queue.push({ peerId, multiaddrs, source })
    this.pump()
  }

  /** Resolves when nothing is queued or running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  private isConnected(peerId: PeerId): boolean {
    return this.components.libp2p.getPeers().some((p) => p.equals(peerId))
  }

  private pump(): void {
    while (this.running < this.init.maxParallel && this.queue.length > 0 && this.controller !== undefined) {
      const job = this.queue.shift() as Job
      this.running++
      this.dial(job, this.controller.signal).finally(() => {
        this.running--
        this.queued.delete(job.peerId.toString())
        this.pump()
        if (this.running === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters
          this.idleWaiters = []
          for (const w of waiters) w()
        }
      })
    }
  }

  private async dial(job: Job, stopSignal: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([stopSignal, AbortSignal.timeout(this.init.timeoutMs)])
    const { connectionManager, libp2p, metrics, logger } = this.components
    // The connection manager reports its own dials to the scorer; libp2p.dial's are reported here.
    const report = connectionManager === undefined
    try {
      if (this.isConnected(job.peerId)) {
        metrics?.dialsTotal.inc({ source: job.source, outcome: 'skipped' })
        return
      }
      if (connectionManager !== undefined) {
        await connectionManager.connect(job.peerId, { signal, multiaddrs: job.multiaddrs.length > 0 ? job.multiaddrs : undefined })
      } else {
        await libp2p.dial(job.peerId, { signal })
      }
      metrics?.dialsTotal.inc({ source: job.source, outcome: 'success' })
      if (report) reportDial(this.components.scorer, job.peerId, true, logger)
    } catch (err) {
      metrics?.dialsTotal.inc({ source: job.source, outcome: 'failure' })
      // A dial cut short by stop() says nothing about the peer.
      if (report && !stopSignal.aborted) reportDial(this.components.scorer, job.peerId, false, logger)
      logger.debug({ peer: job.peerId.toString(), source: job.source, err }, 'dial of discovered peer failed')
    }
  }
}

/** Reports a dial outcome to the scorer, if it takes them; a throwing scorer is logged, not fatal. */
export function reportDial(scorer: DiscoveryScorer | undefined, peerId: PeerId, ok: boolean, logger: Logger): void {
  try {
    if (ok) scorer?.dialSucceeded?.(peerId.toString())
    else scorer?.dialFailed?.(peerId.toString())
  } catch (err) {
    logger.warn({ err }, 'scorer dial report failed')
  }
}
