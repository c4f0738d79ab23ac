// Small waiting helpers: every wait honours a signal and a timeout, and removes its listeners.
import type { Stream } from '@libp2p/interface'
import { systemClock, type Clock } from './clock.js'
import { AbortedError, StreamClosedError, TimeoutError } from './errors.js'

/** Resolves on the stream's next 'drain' event; rejects if it closes, the signal fires or time runs out. */
export async function waitForDrain(stream: Stream, signal: AbortSignal | undefined, timeoutMs: number, clock: Clock = systemClock): Promise<void> {
  if (signal?.aborted === true) throw new AbortedError()
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clock.clearTimeout(timer)
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err == null) resolve()
      else reject(err)
    }
    const onDrain = (): void => done()
    const onClose = (): void => done(new StreamClosedError('stream closed while waiting for drain'))
    const onAbort = (): void => done(new AbortedError())
    const timer = clock.setTimeout(() => done(new TimeoutError(`no drain within ${timeoutMs} ms`)), timeoutMs)
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort)
  })
}

/** Races `promise` against a signal; the promise keeps running (callers share it). */
export async function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal == null) return promise
  if (signal.aborted) throw new AbortedError()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new AbortedError())
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort != null) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * A signal that fires when any of `signals` fires or after `timeoutMs` on `clock` (the injected
 * clock, so tests drive network timeouts by hand); call `clear` when done.
 */
export function combinedSignal(signals: Array<AbortSignal | undefined>, timeoutMs?: number, clock: Clock = systemClock): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController()
  const cleanups: Array<() => void> = []
  for (const s of signals) {
    if (s == null) continue
    if (s.aborted) {
      controller.abort(s.reason)
      break
    }
    const onAbort = (): void => controller.abort(s.reason)
    s.addEventListener('abort', onAbort, { once: true })
    cleanups.push(() => s.removeEventListener('abort', onAbort))
  }
  if (timeoutMs != null && !controller.signal.aborted) {
    const timer = clock.setTimeout(() => controller.abort(new TimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs)
    cleanups.push(() => clock.clearTimeout(timer))
  }
  return {
    signal: controller.signal,
    clear: () => {
      for (const c of cleanups) c()
    },
  }
}

/** Resolves on the first `type` event whose detail matches; rejects with AbortedError when `signal` fires. */
export async function waitForEvent<T>(target: EventTarget, type: string, match: (detail: T) => boolean, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new AbortedError()
  await new Promise<void>((resolve, reject) => {
    const onEvent = (evt: Event): void => {
      if (match((evt as CustomEvent<T>).detail)) done()
    }
    const onAbort = (): void => done(new AbortedError())
    const done = (err?: Error): void => {
      target.removeEventListener(type, onEvent)
      signal.removeEventListener('abort', onAbort)
      if (err == null) resolve()
      else reject(err)
    }
    target.addEventListener(type, onEvent)
    signal.addEventListener('abort', onAbort)
  })
}
