// The child side of proc.ts: answers the runner's commands over IPC. Every role script imports the
// Node 20 shim first, then calls serve() with its command handlers.
import { setMaxListeners } from 'node:events'

// kad-dht and the router attach many abort listeners to shared signals in a busy node: not a leak,
// and the warnings would drown the table.
setMaxListeners(1000)

export type Handler = (args: Record<string, unknown>) => Promise<unknown> | unknown
export type Handlers = Record<string, Handler>

let cleanup: (() => Promise<void>) | undefined

/** Called before the process exits on the runner's 'exit' command (stop nodes, close sockets). */
export function onExit(fn: () => Promise<void>): void {
  cleanup = fn
}

async function exit(code: number): Promise<never> {
  const t = setTimeout(() => process.exit(code), 2000)
  try {
    await cleanup?.()
  } catch {
    // exiting anyway
  }
  clearTimeout(t)
  process.exit(code)
}

export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('bench roles run under proc.ts (no IPC channel)')
  // The runner is gone: never outlive it.
  process.on('disconnect', () => void exit(0))
  process.once('SIGTERM', () => void exit(0))
  process.once('SIGINT', () => void exit(0))
  process.on('message', (m: { id: number; cmd: string; args: Record<string, unknown> }) => {
    if (m.cmd === 'exit') {
      void exit(0)
      return
    }
    if (m.cmd === 'ping') {
      process.send?.({ id: m.id, ok: true, result: { pid: process.pid } })
      return
    }
    const h = handlers[m.cmd]
    if (!h) {
      process.send?.({ id: m.id, ok: false, error: `unknown command ${m.cmd}` })
      return
    }
    Promise.resolve()
      .then(() => h(m.args ?? {}))
      .then(
        (result) => process.send?.({ id: m.id, ok: true, result }),
        (err: unknown) =>
          process.send?.({ id: m.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
      )
  })
}

/** Memory after a full GC (the runner starts children with --expose-gc). */
export function memory(): { rssMiB: number; heapMiB: number } {
  const g = (globalThis as { gc?: () => void }).gc
  g?.()
  g?.()
  const m = process.memoryUsage()
  return { rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20 }
}
