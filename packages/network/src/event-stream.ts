// events(): the typed event stream as an async iterator, for consumers that pull (the gRPC Subscribe
// stream). Bounded: when a slow consumer falls `bufferSize` events behind, the oldest are dropped and
// counted in `dropped`, so one stuck subscriber never grows the node's memory.
import { DEFAULT_EVENT_BUFFER } from './constants.js'
import type { NetworkEvent, NetworkEventKind } from './events.js'

export interface EventsOptions {
  signal?: AbortSignal
  /** Only these kinds (default: all). */
  kinds?: readonly NetworkEventKind[]
  /** Events buffered before the oldest are dropped (default DEFAULT_EVENT_BUFFER). */
  bufferSize?: number
}

export interface EventSource {
  subscribe(listener: (event: NetworkEvent) => void): () => void
  /** Resolves-never; the stream also ends when the source closes (the node stops). */
  onClose(listener: () => void): () => void
}

export class EventSubscription implements AsyncIterableIterator<NetworkEvent> {
  readonly #buffer: NetworkEvent[] = []
  readonly #bufferSize: number
  readonly #kinds: ReadonlySet<NetworkEventKind> | undefined
  #dropped = 0
  #done = false
  #wake: (() => void) | undefined
  readonly #cleanup: Array<() => void> = []

  constructor(source: EventSource, options: EventsOptions = {}) {
    this.#bufferSize = Math.max(1, options.bufferSize ?? DEFAULT_EVENT_BUFFER)
    this.#kinds = options.kinds === undefined || options.kinds.length === 0 ? undefined : new Set(options.kinds)
    if (options.signal?.aborted === true) {
      this.#done = true
      return
    }
    this.#cleanup.push(source.subscribe((event) => this.#push(event)))
    this.#cleanup.push(source.onClose(() => this.close()))
    if (options.signal !== undefined) {
      const signal = options.signal
      const onAbort = (): void => this.close()
      signal.addEventListener('abort', onAbort, { once: true })
      this.#cleanup.push(() => signal.removeEventListener('abort', onAbort))
    }
  }

  /** Events dropped because this consumer fell behind. */
  get dropped(): number {
    return this.#dropped
  }

  get buffered(): number {
    return this.#buffer.length
  }

  #push(event: NetworkEvent): void {
    if (this.#done || (this.#kinds !== undefined && !this.#kinds.has(event.kind))) return
    if (this.#buffer.length >= this.#bufferSize) {
      this.#buffer.shift()
      this.#dropped++
    }
    this.#buffer.push(event)
    this.#wake?.()
  }

  /** Ends the iteration (buffered events are discarded) and unsubscribes. */
  close(): void {
    if (this.#done && this.#cleanup.length === 0) return
    this.#done = true
    this.#buffer.length = 0
    for (const fn of this.#cleanup.splice(0)) fn()
    this.#wake?.()
  }

  async next(): Promise<IteratorResult<NetworkEvent>> {
    for (;;) {
      const event = this.#buffer.shift()
      if (event !== undefined) return { done: false, value: event }
      if (this.#done) return { done: true, value: undefined }
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
      this.#wake = undefined
    }
  }

  async return(): Promise<IteratorResult<NetworkEvent>> {
    this.close()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
