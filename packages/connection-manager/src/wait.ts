// Small waiting helpers: every wait honours a signal and a timeout, and removes its listeners.
import type { Stream } from '@libp2p/interface'
import { AbortedError, StreamClosedError, TimeoutError } from './errors.js'

/** Resolves on the stream's next 'drain' event; rejects if it closes, the signal fires or time runs out. */
export async function waitForDrain(stream: Stream, signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
  if (signal?.aborted === true) throw new AbortedError()
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer)
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err == null) resolve()
      else reject(err)
    }
    const onDrain = (): void => done()
    const onClose = (): void => done(new StreamClosedError('stream closed while waiting for drain'))
    const onAbort = (): void => done(new AbortedError())
    const timer = setTimeout(() => done(new TimeoutError(`no drain within ${timeoutMs} ms`)), timeoutMs)
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

/** A signal that fires when any of `signals` fires or after `timeoutMs`; call `clear` when done. */
export function combinedSignal(signals: Array<AbortSignal | undefined>, timeoutMs?: number): { signal: AbortSignal; clear(): void } {
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
    const timer = setTimeout(() => controller.abort(new TimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs)
    cleanups.push(() => clearTimeout(timer))
  }
  return {
    signal: controller.signal,
    clear: () => {
      for (const c of cleanups) c()
    },
  }
}
