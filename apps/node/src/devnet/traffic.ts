// Real traffic through the nodes' gRPC APIs at a bounded rate: sends between random pairs at every
// priority (one in twenty a 300 KiB LOW payload, chunked and compressed by the router), broadcasts to
// all, to neighbors and to the devnet group. At most `maxInFlight` calls at once; a tick that finds the
// limit reached is skipped, so a slow node never builds a backlog here.
import { Priority, common } from '@cpc/protocol'
import { ClientError, Status } from 'nice-grpc'
import { callSignal, type NodeClient } from '../cli/client.js'

export interface TrafficNode {
  name: string
  peerId: string
  client: NodeClient
}

export interface TrafficInit {
  /** Operations per second over the whole devnet. */
  rate: number
  group: string
  maxInFlight?: number
  callTimeoutMs?: number
}

export interface TrafficCounts {
  sent: Record<'LOW' | 'MEDIUM' | 'HIGH', number>
  broadcasts: number
  failed: number
  /** Refused by the node's load shedding (RESOURCE_EXHAUSTED): the router protecting HIGH traffic. */
  shed: number
  skipped: number
  lastError: string
}

const PRIORITIES = [Priority.LOW, Priority.MEDIUM, Priority.HIGH] as const
const NAMES = { [Priority.LOW]: 'LOW', [Priority.MEDIUM]: 'MEDIUM', [Priority.HIGH]: 'HIGH' } as const

export class Traffic {
  readonly counts: TrafficCounts = { sent: { LOW: 0, MEDIUM: 0, HIGH: 0 }, broadcasts: 0, failed: 0, shed: 0, skipped: 0, lastError: '' }
  readonly #nodes: () => TrafficNode[]
  readonly #init: Required<TrafficInit>
  #timer: ReturnType<typeof setInterval> | undefined
  #inFlight = new Set<Promise<void>>()
  #n = 0
  #controller = new AbortController()

  constructor(nodes: () => TrafficNode[], init: TrafficInit) {
    this.#nodes = nodes
    this.#init = { maxInFlight: 8, callTimeoutMs: 10_000, ...init }
  }

  start(): void {
    if (this.#timer !== undefined || this.#init.rate <= 0) return
    this.#timer = setInterval(() => this.#tick(), Math.max(10, 1000 / this.#init.rate))
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#controller.abort()
    await Promise.allSettled([...this.#inFlight])
  }

  #tick(): void {
    const nodes = this.#nodes()
    if (nodes.length < 2) return
    if (this.#inFlight.size >= this.#init.maxInFlight) {
      this.counts.skipped++
      return
    }
    const p = this.#one(nodes, this.#n++).finally(() => this.#inFlight.delete(p))
    this.#inFlight.add(p)
  }

  async #one(nodes: TrafficNode[], n: number): Promise<void> {
    const from = nodes[Math.floor(Math.random() * nodes.length)]!
    const priority = PRIORITIES[n % 3]!
    const { signal, clear } = callSignal(this.#init.callTimeoutMs, this.#controller.signal)
    const text = `devnet #${n} from ${from.name} at ${NAMES[priority]}`
    try {
      if (n % 10 === 9) {
        const scope =
          n % 30 === 9
            ? { kind: common.BroadcastScope_Kind.KIND_ALL, group: '' }
            : n % 30 === 19
              ? { kind: common.BroadcastScope_Kind.KIND_NEIGHBORS, group: '' }
              : { kind: common.BroadcastScope_Kind.KIND_GROUP, group: this.#init.group }
        await from.client.broadcast({ payload: new TextEncoder().encode(text), priority, scope, kind: 'devnet', contentId: `b${n}` }, { signal })
        this.counts.broadcasts++
        return
      }
      const others = nodes.filter((x) => x !== from)
      const to = others[Math.floor(Math.random() * others.length)]!
      const big = n % 20 === 0
      const payload = big ? bigPayload(n) : new TextEncoder().encode(`${text} to ${to.name}`)
      await from.client.sendMessage({ peerId: to.peerId, payload, priority: big ? Priority.LOW : priority, kind: 'devnet', contentId: `m${n}`, ttlMs: 60_000 }, { signal })
      this.counts.sent[NAMES[big ? Priority.LOW : priority]]++
    } catch (err) {
      if (this.#controller.signal.aborted) return
      if (err instanceof ClientError && err.code === Status.RESOURCE_EXHAUSTED) {
        this.counts.shed++
        return
      }
      this.counts.failed++
      this.counts.lastError = `${from.name}: ${(err as Error).message.split('\n')[0]}`
    } finally {
      clear()
    }
  }
}

/** 300 KiB of compressible text: above the router's chunk size, so it is chunked (and LZ4-compressed). */
function bigPayload(n: number): Uint8Array {
  const line = `devnet bulk payload #${n}: the quick brown fox jumps over the lazy dog. `
  return new TextEncoder().encode(line.repeat(Math.ceil((300 * 1024) / line.length)).slice(0, 300 * 1024))
}
