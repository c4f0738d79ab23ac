// Every namespace the lab creates is named `cpclab-<pid>-<name>`: the pid of the process that owns
// it, so a later run can tell leftovers of a dead process (sweepStale) from a concurrent live lab.
import { sh } from './sh.js'

export const LAB_PREFIX = 'cpclab'
const NAME_RE = /^cpclab-(\d+)-[a-z0-9-]+$/

export function nsName(pid: number, name: string): string {
  if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new Error(`lab names are [a-z0-9-]{1,40}: ${name}`)
  return `${LAB_PREFIX}-${pid}-${name}`
}

/** The lab namespaces that exist now, with their owner pid. */
export function listLabNamespaces(): Array<{ ns: string; pid: number }> {
  const out = sh(['ip', 'netns', 'list'], { allowFail: true }).stdout
  const res: Array<{ ns: string; pid: number }> = []
  for (const line of out.split('\n')) {
    const ns = line.trim().split(/\s+/)[0]
    if (ns == null || !NAME_RE.test(ns)) continue
    res.push({ ns, pid: Number(NAME_RE.exec(ns)![1]) })
  }
  return res
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Kills every process still inside `ns`, then deletes it (which removes its links and rules). */
export function deleteNamespace(ns: string): void {
  const pids = sh(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean).map(Number)
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  sh(['ip', 'netns', 'del', ns], { allowFail: true })
}

/** Removes the namespaces of lab processes that no longer run. Returns what it removed. */
export function sweepStale(): string[] {
  const removed: string[] = []
  for (const { ns, pid } of listLabNamespaces()) {
    if (pid === process.pid || pidAlive(pid)) continue
    deleteNamespace(ns)
    removed.push(ns)
  }
  return removed
}
