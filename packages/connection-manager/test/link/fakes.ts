// Test doubles for link/: a manual clock + scheduler (no sleeps), fake peer ids, a fake CONTROL
// channel between monitors with scripted latency/drops, and an in-memory UDP network.
import type { PeerId } from '@libp2p/interface'
import type { Control } from '@cpc/protocol'
import type { Scheduler, TimerHandle } from '../../src/link/clock.js'
import type { LinkMonitor } from '../../src/link/index.js'
import type { ProbeSocket, UdpSocketFactory, UdpSocketOptions } from '../../src/link/udp-socket.js'

interface Timer extends TimerHandle {
  at: number
  order: number
  fn: () => void
  cancelled: boolean
}

export class ManualTime implements Scheduler {
  now = 0
  private timers: Timer[] = []
  private order = 0

  readonly clock = (): number => this.now

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: Timer = { at: this.now + Math.max(0, ms), order: this.order++, fn, cancelled: false }
    this.timers.push(t)
    return t
  }

  clearTimeout(handle: TimerHandle): void {
    ;(handle as Timer).cancelled = true
  }

  /** Live (not cancelled) timers: lets a test assert that stop() left nothing behind. */
  pending(): number {
    this.timers = this.timers.filter((t) => !t.cancelled)
    return this.timers.length
  }

  /** Runs every timer due up to now + ms, in time order, moving the clock to each. */
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.timers) {
        if (t.cancelled || t.at > end) continue
        if (next == null || t.at < next.at || (t.at === next.at && t.order < next.order)) next = t
      }
      if (next == null) break
      next.cancelled = true
      this.now = next.at
      next.fn()
    }
    this.timers = this.timers.filter((t) => !t.cancelled)
    this.now = end
  }
}

export function fakePeerId(name: string): PeerId {
  return { toString: () => name, equals: (o: unknown) => String(o) === name } as unknown as PeerId
}

/** Deterministic PRNG (mulberry32) for reproducible drop patterns. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A CONTROL link between two monitors. `latencyMs(control)` decides the one-way delay of each
 * message (undefined = drop it), so tests script RTT, jitter and lost pongs.
 */
export class ControlLink {
  a?: LinkMonitor
  b?: LinkMonitor
  latencyMs: (control: Control, from: 'a' | 'b') => number | undefined = () => 5
  sent = { a: [] as Control[], b: [] as Control[] }

  constructor(
    private readonly time: ManualTime,
    readonly idA: PeerId,
    readonly idB: PeerId,
  ) {}

  sendControl(from: 'a' | 'b'): (peer: PeerId, control: Control) => Promise<void> {
    return async (_peer, control) => {
      this.sent[from].push(control)
      const delay = this.latencyMs(control, from)
      if (delay == null) return
      this.time.setTimeout(() => {
        if (from === 'a') this.b?.handleControl(this.idA, control)
        else this.a?.handleControl(this.idB, control)
      }, delay)
    }
  }
}

/**
 * In-memory UDP: sockets on virtual hosts, delivery after `latencyMs` through the manual scheduler.
 * `drop(from, toHost, buf)` returns true to lose a datagram (the seam that emulates a lossy link).
 */
export class FakeUdpNetwork {
  private readonly sockets = new Map<string, UdpSocketOptions>()
  private nextPort = 40000
  latencyMs = 1
  drop: (fromHost: string, toHost: string, buf: Uint8Array) => boolean = () => false
  delivered = 0
  dropped = 0

  constructor(private readonly time: ManualTime) {}

  factory(): UdpSocketFactory {
    return async (options) => {
      const port = options.port === 0 ? this.nextPort++ : options.port
      const addr = `${options.host}:${port}`
      this.sockets.set(addr, options)
      const socket: ProbeSocket = {
        port,
        send: (buf, toPort, toHost) => {
          const copy = Uint8Array.from(buf)
          if (this.drop(options.host, toHost, copy)) {
            this.dropped++
            return
          }
          this.time.setTimeout(() => {
            const target = this.sockets.get(`${toHost}:${toPort}`)
            if (target == null) return
            this.delivered++
            target.onMessage(copy, { address: options.host, port })
          }, this.latencyMs)
        },
        close: async () => {
          this.sockets.delete(addr)
        },
      }
      return socket
    }
  }

  /** Delivers raw bytes to host:port as if from `from` (for forged/unauthenticated datagrams). */
  inject(toHost: string, toPort: number, buf: Uint8Array, from = { address: '10.9.9.9', port: 9 }): void {
    this.sockets.get(`${toHost}:${toPort}`)?.onMessage(buf, from)
  }
}

/** Lets pending promise callbacks (async sendControl / socket factory) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}
