// Keeps the reservations on the relays of `relay.listenVia` (js-libp2p #3601).
//
// @libp2p/circuit-relay-v2 drops a *configured* relay's reservation when the connection to the relay
// closes (only 'discovered' reservations are queued again), and nothing reserves it again: after a
// relay restart a relay-only node stays unreachable for good. The keeper checks (on every
// `self:peer:update` and on a timer) whether `<relay>/p2p-circuit` is still among our addresses, and
// when it is not, listens on it again: the circuit listener dials the relay and makes a new reservation.
// Measured in the lab (relay restart scenario): reservations back ~0.6 s after the relay is up.
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'

export interface RelayKeeperComponents {
  /** Our current addresses (libp2p.getMultiaddrs). */
  addresses(): Multiaddr[]
  /** Listen on a circuit address (the transport manager's listen). */
  listen(addr: Multiaddr): Promise<void>
  /** Subscribe to address changes; returns the unsubscribe function. */
  onAddressChange(fn: () => void): () => void
  logger?: { debug(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }
}

export interface RelayKeeperInit {
  /** The configured relays (`/…/p2p/<relay>` multiaddrs). */
  relays: string[]
  /** How often to check when nothing else triggers a check (default 1 s). */
  checkIntervalMs?: number
  /** Delay before trying a relay again after a failed attempt, doubling up to maxBackoffMs. */
  backoffMs?: number
  maxBackoffMs?: number
}

interface Kept {
  circuit: string
  busy: boolean
  failures: number
  notBefore: number
}

export class RelayKeeper {
  readonly #c: RelayKeeperComponents
  readonly #kept: Kept[]
  readonly #interval: number
  readonly #backoff: number
  readonly #maxBackoff: number
  #timer?: ReturnType<typeof setInterval>
  #unsubscribe?: () => void
  #attempts = 0

  constructor(components: RelayKeeperComponents, init: RelayKeeperInit) {
    this.#c = components
    this.#kept = init.relays.map((r) => ({ circuit: `${r}/p2p-circuit`, busy: false, failures: 0, notBefore: 0 }))
    this.#interval = init.checkIntervalMs ?? 1000
    this.#backoff = init.backoffMs ?? 1000
    this.#maxBackoff = init.maxBackoffMs ?? 30_000
  }

  /** Re-listen attempts made so far (for tests and logs). */
  get attempts(): number {
    return this.#attempts
  }

  start(): void {
    if (this.#kept.length === 0 || this.#timer !== undefined) return
    this.#unsubscribe = this.#c.onAddressChange(() => this.check())
    this.#timer = setInterval(() => this.check(), this.#interval)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  /** Re-listens on every configured relay whose circuit address is missing (one attempt per relay at a time). */
  check(): void {
    if (this.#timer === undefined) return
    const now = Date.now()
    const have = this.#c.addresses().map(String)
    for (const k of this.#kept) {
      if (k.busy || now < k.notBefore) continue
      if (have.some((a) => a.startsWith(k.circuit))) {
        k.failures = 0
        continue
      }
      k.busy = true
      this.#attempts++
      this.#c.listen(multiaddr(k.circuit)).then(
        () => {
          k.failures = 0
          this.#c.logger?.debug({ relay: k.circuit }, 'relay reservation re-established')
        },
        (err: unknown) => {
          k.failures++
          k.notBefore = Date.now() + Math.min(this.#maxBackoff, this.#backoff * 2 ** (k.failures - 1))
          this.#c.logger?.debug({ relay: k.circuit, err }, 'relay re-listen failed')
        },
      ).finally(() => {
        k.busy = false
      })
    }
  }
}
