// Multi-process machinery: each bench role runs in its own Node process (bench/dist/roles/*.js),
// talks to the runner over IPC (request/response by id), and is killed when the runner exits, fails,
// times out or gets Ctrl-C. No child outlives the runner: children also exit on IPC 'disconnect'.
import { fork, type ChildProcess } from 'node:child_process'
import { setMaxListeners } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const distDir = path.dirname(fileURLToPath(import.meta.url))
const live = new Set<RoleProcess>()
// The runner imports @cpc/network to see whether it exists; its libraries share abort signals widely.
setMaxListeners(1000)

/** Settings every child inherits: set once by run.ts from argv. */
export const procSettings = { profileDir: '' as string, profileRoles: new Set<string>() }

export class BenchTimeoutError extends Error {
  readonly code = 'ERR_BENCH_TIMEOUT'
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`)
    this.name = 'BenchTimeoutError'
  }
}

/**
 * Whether an error is the machine being slow, not the harness being broken: our own timeouts, and
 * libp2p's dial/handshake/abort timeouts (EncryptionFailedError "aborted due to timeout", AbortError,
 * TimeoutError), also when a role passed them on. Such suites and rows report 'timeout', which never
 * fails a run (a busy 2-core machine running npm test must not fail the bench).
 */
export function isSlowness(err: unknown): boolean {
  if (err instanceof BenchTimeoutError) return true
  if (!(err instanceof Error)) return false
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return true
  return /timed out|timeout|operation was aborted/i.test(err.message)
}

export class RoleError extends Error {
  readonly code = 'ERR_BENCH_ROLE'
  constructor(role: string, message: string) {
    super(`${role}: ${message}`)
    this.name = 'RoleError'
  }
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

export interface SpawnOptions {
  /** Name shown in errors and profile files. */
  name?: string
  /** argv for the role script. */
  args?: string[]
  /** How long to wait for the child's 'ready'. */
  readyTimeoutMs?: number
  /** Killed when this aborts (the suite's timeout or the global deadline). */
  signal?: AbortSignal
  /** Run this child with --cpu-prof (when the runner has --profile). */
  profile?: boolean
}

/** A child Node process running one bench role. */
export class RoleProcess {
  readonly name: string
  private readonly child: ChildProcess
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private exitError: Error | undefined
  readonly exited: Promise<void>

  private constructor(role: string, opts: SpawnOptions) {
    this.name = opts.name ?? role
    const execArgv = ['--expose-gc']
    if (opts.profile && procSettings.profileDir) {
      fs.mkdirSync(procSettings.profileDir, { recursive: true })
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${procSettings.profileDir}`, `--cpu-prof-name=${this.name}.cpuprofile`)
    }
    this.child = fork(path.join(distDir, 'roles', `${role}.js`), opts.args ?? [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    live.add(this)
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, sig) => {
        live.delete(this)
        this.exitError = new RoleError(this.name, `exited (code ${code}, signal ${sig})`)
        for (const p of this.pending.values()) {
          clearTimeout(p.timer)
          p.reject(this.exitError)
        }
        this.pending.clear()
        resolve()
      })
    })
    this.child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id)
      if (!p || m.id === undefined) return
      this.pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.result)
      else p.reject(new RoleError(this.name, m.error ?? 'failed'))
    })
    this.child.on('error', () => {})
    opts.signal?.addEventListener('abort', () => void this.kill(), { once: true })
  }

  /** Starts `roles/<role>.js` and waits until it answers a ping. */
  static async spawn(role: string, opts: SpawnOptions = {}): Promise<RoleProcess> {
    const p = new RoleProcess(role, opts)
    try {
      await p.call('ping', {}, opts.readyTimeoutMs ?? 30_000)
    } catch (err) {
      await p.kill()
      throw err
    }
    return p
  }

  /** Sends a command and waits for its result (rejects on timeout, child error or child exit). */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError)
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new BenchTimeoutError(`${this.name} ${cmd}`, timeoutMs))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.child.send({ id, cmd, args })
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** Asks the child to exit (so a --cpu-prof profile gets written), then kills it after `graceMs`. */
  async kill(graceMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    if (this.child.connected) this.child.send({ id: 0, cmd: 'exit', args: {} })
    else this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(t)
  }
}

/** Kills every child still running (suite teardown, deadline, errors). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()))
}

function killAllNow(): void {
  for (const p of live) {
    const pid = p.pid
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

// Synchronous last resort: whatever ends the runner ends its children.
process.on('exit', killAllNow)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAllNow()
    process.exit(130)
  })
}

/** Resolves `p`, or rejects with BenchTimeoutError after `ms` (the timer never keeps the loop alive). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new BenchTimeoutError(what, ms)), ms)))])
  } finally {
    clearTimeout(t)
  }
}
