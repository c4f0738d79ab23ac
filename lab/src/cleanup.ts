// Process-level cleanup: whatever happens to this process (normal exit, SIGINT, SIGTERM, an uncaught
// exception), every live lab is destroyed synchronously before it goes. This is the one
// module-level registry in the lab, on purpose: exit handlers are per process.
export interface Destroyable {
  destroySync(): void
}

const live = new Set<Destroyable>()
let installed = false

function destroyAll(): void {
  for (const lab of [...live]) {
    try {
      lab.destroySync()
    } catch {
      // keep going: the next lab must still be removed
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAll()
  process.exit(signal === 'SIGINT' ? 130 : 143)
}

function onUncaught(err: unknown): void {
  destroyAll()
  process.stderr.write(`lab: uncaught exception, lab removed: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
}

export function register(lab: Destroyable, handlers = true): void {
  live.add(lab)
  if (!handlers || installed) return
  installed = true
  process.on('exit', destroyAll)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('SIGHUP', onSignal)
  process.on('uncaughtException', onUncaught)
}

export function unregister(lab: Destroyable): void {
  live.delete(lab)
}
