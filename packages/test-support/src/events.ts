// Waiting on events instead of sleeping. Shared by every project's tests (one bound: 30 s, enough for a loaded
// 2-core CI machine; a test that needs less passes its own).

/** Resolves with the first event of `type` matching `predicate`; rejects after `timeoutMs`. */
export async function waitForEvent<T = unknown>(
  target: EventTarget,
  type: string,
  predicate: (detail: T) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEvent = (evt: Event): void => {
      const detail = (evt as CustomEvent<T>).detail
      if (!predicate(detail)) return
      cleanup()
      resolve(detail)
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${type}`))
    }, timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      target.removeEventListener(type, onEvent)
    }
    target.addEventListener(type, onEvent)
  })
}

/** Records every event of `type` on `target`; `until` waits for the recording to match. */
export function record<T>(target: EventTarget, type: string): { events: T[]; stop(): void; until(predicate: (events: T[]) => boolean, timeoutMs?: number): Promise<T[]> } {
  const events: T[] = []
  const waiters = new Set<() => void>()
  const onEvent = (evt: Event): void => {
    events.push((evt as CustomEvent<T>).detail)
    for (const w of waiters) w()
  }
  target.addEventListener(type, onEvent)
  return {
    events,
    stop: () => target.removeEventListener(type, onEvent),
    until: async (predicate, timeoutMs = 30_000) =>
      new Promise<T[]>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(events)) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(events)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out after ${timeoutMs} ms; recorded ${events.length} ${type} events: ${JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
  }
}
