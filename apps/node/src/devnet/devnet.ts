// The local devnet: a bootstrap, a relay and N nodes as separate processes on 127.0.0.1 (the last node
// reachable only through the relay), real traffic through their gRPC APIs, and the live view. Every
// exit path stops every child: SIGTERM, SIGKILL after a grace period, and run() returns only once all
// are gone.
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { callSignal, connect, type Connection } from '../cli/client.js'
import { scrape } from './metrics.js'
import { DevProcess } from './process.js'
import { bootstrapArgs, dialable, entries, nodeArgs, relayArgs, type Entries } from './programs.js'
import { Traffic, type TrafficNode } from './traffic.js'
import { LiveView, type Out, type ViewRow } from './view.js'

export interface DevnetInit {
  /** Repository root (built apps under apps/*\/dist). */
  root: string
  nodes: number
  /** Where data dirs and logs go; emptied first. */
  dataDir: string
  /** Stop by itself after this long. */
  forSeconds?: number
  /** Traffic operations per second over the whole devnet (0: none). */
  rate: number
  out: Out
  tty: boolean
  logLevel?: string
  readyTimeoutMs?: number
  graceMs?: number
  viewIntervalMs?: number
  /** Plain (non-TTY) output: a view every this long. */
  plainEveryMs?: number
  /** Nodes started at once (start is CPU-bound on small machines). */
  startConcurrency?: number
  entries?: Entries
}

export const DEVNET_GROUP = 'devnet'

interface Member {
  proc: DevProcess
  role: 'bootstrap' | 'relay' | 'node'
  relayOnly: boolean
  conn?: Connection
  row: ViewRow
}

export class Devnet {
  readonly #init: Required<Omit<DevnetInit, 'forSeconds'>> & { forSeconds?: number }
  readonly #members: Member[] = []
  #stopping: Promise<void> | undefined

  constructor(init: DevnetInit) {
    this.#init = {
      logLevel: 'warn',
      readyTimeoutMs: 60_000,
      graceMs: 5000,
      viewIntervalMs: 1000,
      plainEveryMs: 5000,
      startConcurrency: 4,
      entries: entries(init.root),
      ...init,
    }
  }

  get pids(): number[] {
    return this.#members.map((m) => m.proc.pid).filter((p): p is number => p !== undefined)
  }

  /**
   * Starts everything, runs until `signal` aborts or --for elapses, then stops everything. Resolves
   * with the exit code: 0 after a clean stop, 1 when a process failed to start or died.
   */
  async run(signal: AbortSignal): Promise<number> {
    const started = Date.now()
    const { out } = this.#init
    let failure: string | undefined
    const died = new AbortController()
    // --for: an explicit timer (Node 20 may collect an AbortSignal.timeout() held only by AbortSignal.any).
    // It counts from when every process is ready.
    const elapsed = new AbortController()
    let forTimer: ReturnType<typeof setTimeout> | undefined
    const stop = AbortSignal.any([signal, died.signal, elapsed.signal])
    const traffic = new Traffic(() => this.#trafficNodes(), { rate: this.#init.rate, group: DEVNET_GROUP })
    try {
      await this.#start(stop, (m, reason) => {
        if (this.#stopping !== undefined || stop.aborted) return
        failure = `${m.proc.name} ${reason}; last output:\n${m.proc.tail()}`
        died.abort()
      })
      if (stop.aborted) return this.#finish(failure, signal)
      this.#printAddresses(Date.now() - started)
      if (this.#init.forSeconds !== undefined) forTimer = setTimeout(() => elapsed.abort(), this.#init.forSeconds * 1000)
      traffic.start()
      const view = new LiveView(out, this.#init.tty)
      let lastPlain = 0
      while (!stop.aborted) {
        await this.#poll()
        const now = Date.now()
        if (this.#init.tty || now - lastPlain >= this.#init.plainEveryMs) {
          view.render(this.#members.map((m) => m.row), now - started, this.#members.filter((m) => m.role === 'node').length, traffic.counts)
          lastPlain = now
        }
        await sleep(this.#init.viewIntervalMs, stop)
      }
    } catch (err) {
      failure ??= err instanceof Error ? err.message : String(err)
    } finally {
      if (forTimer !== undefined) clearTimeout(forTimer)
      await traffic.stop()
      await this.stop()
    }
    return this.#finish(failure, signal)
  }

  #finish(failure: string | undefined, signal: AbortSignal): number {
    const { out } = this.#init
    if (failure !== undefined) out.write(`devnet failed: ${failure}\n`)
    out.write(`devnet stopped${signal.aborted ? ' (interrupted)' : ''}: ${this.#members.length} process(es) exited (pids ${this.pids.join(' ')}); logs in ${this.#init.dataDir}\n`)
    return failure === undefined ? 0 : 1
  }

  /** Stops every child (SIGTERM, then SIGKILL after the grace period); resolves once all are gone. */
  async stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const m of this.#members) m.conn?.close()
      // Nodes first, so their goodbyes reach a live bootstrap and relay.
      const nodes = this.#members.filter((m) => m.role === 'node')
      await Promise.all(nodes.map(async (m) => m.proc.stop(this.#init.graceMs)))
      await Promise.all(this.#members.filter((m) => m.role !== 'node').map(async (m) => m.proc.stop(this.#init.graceMs)))
    })()
    return this.#stopping
  }

  /** Synchronous last resort (process 'exit'): SIGKILL to every child still running. */
  killNow(): void {
    for (const m of this.#members) m.proc.killNow()
  }

  async #start(signal: AbortSignal, onDeath: (m: Member, reason: string) => void): Promise<void> {
    const { dataDir, entries: e, nodes, logLevel } = this.#init
    await rm(dataDir, { recursive: true, force: true })
    await mkdir(dataDir, { recursive: true })
    const spawnMember = async (name: string, role: Member['role'], entry: string, args: (dir: string) => string[], relayOnly = false): Promise<Member> => {
      const dir = path.join(dataDir, name)
      const proc = new DevProcess({ name, entry, args: args(dir), logFile: path.join(dataDir, `${name}.log`) })
      const member: Member = { proc, role, relayOnly, row: { name, role, peerId: '', relayOnly } }
      this.#members.push(member)
      const ready = await proc.start(this.#init.readyTimeoutMs, signal)
      member.row.peerId = ready.peerId
      void proc.exited().then(({ code, signal: sig }) => onDeath(member, `exited (${sig ?? `code ${code}`})`))
      if (ready.grpc !== '') member.conn = await connect({ addr: ready.grpc, timeoutMs: 10_000, signal })
      return member
    }
    const boot = await spawnMember('bootstrap', 'bootstrap', e.bootstrap, (dir) => bootstrapArgs({ name: 'bootstrap', dataDir: dir, logLevel }))
    const bootAddr = dialable(boot.proc.ready!.listenAddrs, boot.proc.ready!.peerId)
    const relay = await spawnMember('relay', 'relay', e.relay, (dir) => relayArgs({ name: 'relay', dataDir: dir, logLevel, bootstrap: [bootAddr] }))
    const relayAddr = dialable(relay.proc.ready!.listenAddrs, relay.proc.ready!.peerId)
    const names = Array.from({ length: nodes }, (_, i) => `node-${i + 1}`)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < names.length && !signal.aborted) {
        const i = next++
        const name = names[i]!
        // The last node (of two or more) listens only through the relay.
        const relayOnly = nodes >= 2 && i === nodes - 1
        await spawnMember(name, 'node', e.node, (dir) =>
          nodeArgs({ name, dataDir: dir, logLevel, bootstrap: [bootAddr], groups: [DEVNET_GROUP], ...(relayOnly ? { relayOnly: relayAddr } : {}) }),
          relayOnly,
        )
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#init.startConcurrency, nodes) }, worker))
    // Keep the view in start order whatever order the workers finished in.
    this.#members.sort((a, b) => order(a) - order(b))
  }

  #printAddresses(startMs: number): void {
    const { out } = this.#init
    const rows = this.#members.map((m) => {
      const r = m.proc.ready!
      return `  ${m.proc.name.padEnd(10)} pid ${String(m.proc.pid).padEnd(7)} ${r.peerId}  grpc ${r.grpc || '-'}  metrics ${r.metrics || '-'}${m.relayOnly ? '  (relay-only)' : ''}`
    })
    const first = this.#members.find((m) => m.role === 'node')?.proc.ready?.grpc
    out.write(
      [
        `devnet up in ${(startMs / 1000).toFixed(1)} s: ${this.#members.length} processes on 127.0.0.1 (data and logs in ${this.#init.dataDir})`,
        ...rows,
        ...(first !== undefined ? [`  try: npx cpc --addr ${first} peers   (or CPC_GRPC_ADDR=${first} npx cpc watch; without the npm-linked bin: node apps/node/dist/cli/main.js)`] : []),
        '',
      ].join('\n') + '\n',
    )
  }

  #trafficNodes(): TrafficNode[] {
    return this.#members.filter((m) => m.role === 'node' && m.conn !== undefined && m.proc.running).map((m) => ({ name: m.proc.name, peerId: m.row.peerId, client: m.conn!.client }))
  }

  async #poll(): Promise<void> {
    await Promise.all(
      this.#members.map(async (m) => {
        const row = m.row
        try {
          if (m.conn !== undefined) {
            const { signal, clear } = callSignal(Math.max(500, this.#init.viewIntervalMs - 100))
            try {
              const [status, peers] = await Promise.all([m.conn.client.getStatus({}, { signal }), m.conn.client.listPeers({}, { signal })])
              row.status = status
              row.peers = peers.peers
            } finally {
              clear()
            }
          }
          const url = m.proc.ready?.metrics
          if (url !== undefined && url !== '') {
            const sample = await scrape(url)
            if (sample !== undefined) {
              row.prev = row.cur
              row.cur = sample
            }
          }
          delete row.error
        } catch (err) {
          row.error = m.proc.running ? (err as Error).message.split('\n')[0]!.slice(0, 60) : 'exited'
        }
      }),
    )
  }
}

function order(m: Member): number {
  if (m.role === 'bootstrap') return -2
  if (m.role === 'relay') return -1
  return Number(m.proc.name.replace(/\D/g, ''))
}

async function sleep(msTotal: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, msTotal)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
