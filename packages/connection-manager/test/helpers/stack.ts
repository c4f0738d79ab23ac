// A node with its channel and connection manager, as @cpc/network will compose them.
import { MessageSigner } from '@cpc/protocol'
import { Registry } from 'prom-client'
import { CpcChannel } from '../../src/channel.js'
import type { Clock, RandomSource } from '../../src/clock.js'
import { ConnectionManager, type ConnectionManagerInit } from '../../src/connection-manager.js'
import { createConnectionManagerMetrics, type ConnectionManagerMetrics } from '../../src/metrics.js'
import type { PeerScorerLike } from '../../src/scorer.js'
import { createNode, type TestNode } from './nodes.js'
import type { PrivateKey } from '@libp2p/interface'
import { LinkMonitor } from '../../src/link/index.js'

export interface Stack extends TestNode {
  channel: CpcChannel
  cm: ConnectionManager
  metrics: ConnectionManagerMetrics
  registry: Registry
  link?: LinkMonitor
  stop(): Promise<void>
}

export async function createStack(
  options: { privateKey?: PrivateKey; port?: number; clock?: Clock; random?: RandomSource; scorer?: PeerScorerLike; init?: ConnectionManagerInit; link?: boolean } = {},
): Promise<Stack> {
  const t = await createNode({ privateKey: options.privateKey, port: options.port })
  const registry = new Registry()
  const metrics = createConnectionManagerMetrics(registry)
  const channel = new CpcChannel({ libp2p: t.node, metrics })
  // The link monitor needs the manager's sendControl and the manager drives the monitor: bind late.
  const late: { cm?: ConnectionManager } = {}
  const link =
    options.link === true
      ? new LinkMonitor(
          {
            sendControl: async (peer, control, opts) => late.cm!.sendControl(peer, control, opts),
            bytesCounters: (peer) => {
              const c = channel.counters(peer)
              return { in: c.bytesIn, out: c.bytesOut }
            },
            udpSocketFactory: null,
          },
          { initialIntervalMs: 50, minIntervalMs: 50 },
        )
      : undefined
  const cm = new ConnectionManager(
    { libp2p: t.node, channel, signer: new MessageSigner(t.privateKey), metrics, clock: options.clock, random: options.random, scorer: options.scorer, linkMonitor: link },
    options.init,
  )
  late.cm = cm
  await channel.start()
  await cm.start()
  return {
    ...t,
    channel,
    cm,
    link,
    metrics,
    registry,
    stop: async () => {
      await cm.stop()
      await channel.stop()
      if (t.node.status !== 'stopped') await t.node.stop()
    },
  }
}

/** A scorer stub: fixed composite scores, and a log of what the manager reported. */
export class FakeScorer implements PeerScorerLike {
  readonly calls: string[] = []
  constructor(readonly scores = new Map<string, number>()) {}
  composite(peer: string): number {
    return this.scores.get(peer) ?? 0.5
  }
  connected(peer: string): void {
    this.calls.push(`connected ${peer}`)
  }
  disconnected(peer: string, options?: { error?: boolean }): void {
    this.calls.push(`disconnected ${peer}${options?.error === true ? ' error' : ''}`)
  }
  dialSucceeded(peer: string): void {
    this.calls.push(`dialSucceeded ${peer}`)
  }
  dialFailed(peer: string): void {
    this.calls.push(`dialFailed ${peer}`)
  }
}
