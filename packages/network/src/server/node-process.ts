// Runs one cpc-net process from a validated AppConfig: metrics registry, logger, tracer, the
// NetworkHandler, the gRPC server and the /metrics + health HTTP server, started in that order and
// stopped in reverse. Shared by apps/node, apps/bootstrap and apps/relay, which only parse argv,
// print the ready line and handle signals.
import { ObservabilityServer, createLogger, createMetricsRegistry, createTracer, type Logger, type Tracing } from '@cpc/observability'
import type { Registry } from 'prom-client'
import type { AppConfig } from '../app-config.js'
import { NetworkHandler, type NetworkHandlerComponents } from '../network-handler.js'
import { NodeGrpcServer } from './grpc-server.js'
import { createRelayMetrics, type RelayServerLike } from './relay-metrics.js'
import { parseHostPort } from './address.js'

export interface NodeProcessComponents {
  /** Default: pino JSON lines on stderr at config.log.level (stdout is for the ready line). */
  logger?: Logger
  /** Default: a new registry with process metrics and `{ node: config.name, role }` labels. */
  registry?: Registry
  /** Link monitor, clock... passed to the NetworkHandler as is. */
  network?: Omit<NetworkHandlerComponents, 'registry' | 'logger' | 'tracer'>
}

/** What a process prints on stdout once everything listens (one JSON line, see apps/node/README.md). */
export interface ReadyLine {
  event: 'ready'
  app: string
  role: AppConfig['role']
  name: string
  pid: number
  peerId: string
  /** The node's multiaddrs, each with /p2p/<peerId>. */
  listen: string[]
  /** host:port of the gRPC server, or null when disabled. */
  grpc: string | null
  /** URL of /metrics, or null when disabled (/healthz and /readyz are beside it). */
  metrics: string | null
}

export class NodeProcess {
  readonly config: AppConfig
  readonly handler: NetworkHandler
  readonly registry: Registry
  readonly logger: Logger
  readonly grpc: NodeGrpcServer | undefined
  readonly http: ObservabilityServer | undefined
  readonly #tracing: Tracing
  #stopping: Promise<void> | undefined

  private constructor(config: AppConfig, parts: { handler: NetworkHandler; registry: Registry; logger: Logger; tracing: Tracing; grpc?: NodeGrpcServer; http?: ObservabilityServer }) {
    this.config = config
    this.handler = parts.handler
    this.registry = parts.registry
    this.logger = parts.logger
    this.#tracing = parts.tracing
    this.grpc = parts.grpc
    this.http = parts.http
  }

  /** Creates and starts everything; on any failure stops what was started and rethrows. */
  static async start(config: AppConfig, components: NodeProcessComponents = {}): Promise<NodeProcess> {
    const logger: Logger = components.logger ?? createLogger({ level: config.log.level, name: `cpc-${config.role}`, destination: 'stderr', base: { node: config.name } })
    const registry = components.registry ?? createMetricsRegistry({ defaultLabels: { node: config.name, role: config.role } })
    const tracing = createTracer({
      serviceName: `cpc-${config.role}`,
      exporter: config.tracing.exporter,
      ...(config.tracing.otlpEndpoint !== undefined ? { otlpEndpoint: config.tracing.otlpEndpoint } : {}),
      resourceAttributes: { 'service.instance.id': config.name },
    })
    const cleanup: Array<() => Promise<unknown>> = [async () => tracing.shutdown()]
    try {
      // NetworkHandler builds its link monitor (RTT, loss, throughput) from config.link.
      const handler = await NetworkHandler.create(config.networkConfig, {
        ...components.network,
        registry,
        logger,
        tracer: tracing.tracer,
      })
      cleanup.unshift(async () => handler.stop())
      const relay = (handler.libp2p.services as Record<string, unknown>).relay as RelayServerLike | undefined
      if (config.role === 'relay' && relay !== undefined) {
        createRelayMetrics(registry, relay, { maxReservations: handler.config.relay.server.maxReservations })
      }
      await handler.start()
      let grpc: NodeGrpcServer | undefined
      if (config.grpc.enabled) {
        grpc = new NodeGrpcServer(handler, { bind: config.grpc.bind, ...(config.grpc.token !== undefined ? { token: config.grpc.token } : {}) })
        await grpc.listen()
        const g = grpc
        cleanup.unshift(async () => g.stop())
      }
      let http: ObservabilityServer | undefined
      if (config.metrics.enabled) {
        const { host, port } = parseHostPort(config.metrics.bind)!
        http = new ObservabilityServer(
          { registry, logger: logger.child({ component: 'http' }) },
          { host, port, readiness: () => (handler.started ? true : { ok: false, reason: 'network not started' }) },
        )
        await http.start()
      }
      logger.info({ peer: handler.peerId.toString(), grpc: grpc?.address, metrics: http?.address?.url }, 'ready')
      return new NodeProcess(config, { handler, registry, logger, tracing, grpc, http })
    } catch (err) {
      for (const fn of cleanup) await fn().catch((e: unknown) => logger.warn({ err: e }, 'cleanup after failed start'))
      throw err
    }
  }

  readyLine(app: string): ReadyLine {
    const url = this.http?.address?.url
    return {
      event: 'ready',
      app,
      role: this.config.role,
      name: this.config.name,
      pid: process.pid,
      peerId: this.handler.peerId.toString(),
      listen: this.handler.multiaddrs.map(String),
      grpc: this.grpc?.address ?? null,
      metrics: url === undefined ? null : `${url.replace(/\/$/, '')}/metrics`,
    }
  }

  /** gRPC (health NOT_SERVING, bounded drain), HTTP, the network, tracing. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn()
        } catch (err) {
          this.logger.warn({ err, step: name }, 'stop step failed')
        }
      }
      await step('grpc', async () => this.grpc?.stop())
      await step('http', async () => this.http?.stop())
      await step('network', async () => this.handler.stop())
      await step('tracing', async () => this.#tracing.shutdown())
    })()
    return this.#stopping
  }
}
