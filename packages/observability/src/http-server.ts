// /metrics, /healthz and /readyz on node:http: no framework, nothing left running after stop().
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_PORT } from './constants.js'
import { AbortError, InvalidConfigError, ListenError } from './errors.js'
import { noopLogger, type Logger } from './logger.js'

/** What a readiness or health callback answers: a boolean, or a verdict with a reason for the 503 body. */
export type CheckResult = boolean | { ok: boolean; reason?: string }
export type Check = () => CheckResult | Promise<CheckResult>

export interface ObservabilityServerComponents {
  registry: Registry
  logger?: Logger
}

export interface ObservabilityServerInit {
  /** Default 127.0.0.1. Use 0.0.0.0 (or ::) only where Prometheus scrapes from another host. */
  host?: string
  /** Default 0 (an OS-chosen free port). */
  port?: number
  /** GET /readyz: 200 while this answers true, else 503 with the reason. Default: always ready. */
  readiness?: Check
  /** GET /healthz: 200 while the process runs and this (if given) answers true, else 503. */
  health?: Check
  /** A check slower than this counts as failed (default 2000 ms). */
  checkTimeoutMs?: number
}

export interface ServerAddress {
  host: string
  port: number
  /** `http://host:port` (IPv6 hosts bracketed). */
  url: string
}

export interface AbortOptions {
  signal?: AbortSignal
}

const JSON_TYPE = 'application/json; charset=utf-8'

async function runCheck(check: Check | undefined, timeoutMs: number): Promise<{ ok: boolean; reason?: string }> {
  if (check === undefined) return { ok: true }
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`check timed out after ${timeoutMs} ms`)), timeoutMs)
    })
    const result = await Promise.race([Promise.resolve().then(check), timeout])
    if (typeof result === 'boolean') return result ? { ok: true } : { ok: false, reason: 'not ready' }
    return result.ok ? { ok: true } : { ok: false, reason: result.reason ?? 'not ready' }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  } finally {
    clearTimeout(timer)
  }
}

/** Serves Prometheus scrapes and liveness/readiness probes for one process. */
export class ObservabilityServer {
  private readonly registry: Registry
  private readonly log: Logger
  private readonly host: string
  private readonly port: number
  private readonly readiness?: Check
  private readonly health?: Check
  private readonly checkTimeoutMs: number
  private server?: Server
  private bound?: ServerAddress

  constructor(components: ObservabilityServerComponents, init: ObservabilityServerInit = {}) {
    this.registry = components.registry
    this.log = components.logger ?? noopLogger
    this.host = init.host ?? DEFAULT_HOST
    this.port = init.port ?? DEFAULT_PORT
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65_535) {
      throw new InvalidConfigError(`invalid port ${String(init.port)}: expected an integer in 0..65535`)
    }
    this.readiness = init.readiness
    this.health = init.health
    this.checkTimeoutMs = init.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS
  }

  /** The bound address while started, else undefined. */
  get address(): ServerAddress | undefined {
    return this.bound
  }

  isStarted(): boolean {
    return this.server !== undefined
  }

  /** Binds and resolves with the bound address; a second call returns the same address. */
  async start(options: AbortOptions = {}): Promise<ServerAddress> {
    if (this.bound !== undefined) return this.bound
    if (options.signal?.aborted === true) throw new AbortError('observability server start aborted')
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err, url: req.url }, 'observability request failed')
        if (!res.headersSent) this.send(res, 500, 'text/plain; charset=utf-8', 'internal error\n')
        else res.destroy()
      })
    })
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        cleanup()
        server.close()
        reject(new AbortError('observability server start aborted'))
      }
      const onError = (err: NodeJS.ErrnoException): void => {
        cleanup()
        reject(new ListenError(`cannot listen on ${this.host}:${this.port}: ${err.code ?? err.message}`, { cause: err }))
      }
      const cleanup = (): void => {
        server.off('error', onError)
        options.signal?.removeEventListener('abort', onAbort)
      }
      server.once('error', onError)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      server.listen(this.port, this.host, () => {
        cleanup()
        resolve()
      })
    })
    server.on('error', (err) => this.log.error({ err }, 'observability server error'))
    const info = server.address() as AddressInfo
    const urlHost = info.family === 'IPv6' ? `[${info.address}]` : info.address
    this.server = server
    this.bound = { host: info.address, port: info.port, url: `http://${urlHost}:${info.port}` }
    this.log.info({ url: this.bound.url }, 'observability server listening')
    return this.bound
  }

  /** Stops listening and destroys every connection, keep-alive and in-flight ones included. */
  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    this.bound = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
    this.log.info({}, 'observability server stopped')
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz'
    if (!known) {
      this.send(res, 404, JSON_TYPE, JSON.stringify({ status: 'not_found', path }))
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      this.send(res, 405, JSON_TYPE, JSON.stringify({ status: 'method_not_allowed', method: req.method }))
      return
    }
    if (path === '/metrics') {
      const body = await this.registry.metrics()
      this.send(res, 200, this.registry.contentType, body)
      return
    }
    const check = path === '/healthz' ? this.health : this.readiness
    const result = await runCheck(check, this.checkTimeoutMs)
    if (result.ok) {
      this.send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }))
    } else {
      const status = path === '/healthz' ? 'unhealthy' : 'not_ready'
      this.send(res, 503, JSON_TYPE, JSON.stringify({ status, reason: result.reason }))
    }
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string): void {
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    })
    res.end(body)
  }
}
