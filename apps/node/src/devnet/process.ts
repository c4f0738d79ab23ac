// One program of the devnet as a child process: spawned with the parent-watch preload, its stdout
// scanned for the ready line, its output kept (bounded) for error messages and logs, stopped with
// SIGTERM and then SIGKILL after a grace period.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseReadyLine, type Ready } from './ready-line.js'

const PARENT_WATCH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parent-watch.js')
/** Lines of output kept per process for error messages. */
const TAIL_LINES = 40

export class DevnetProcessError extends Error {
  readonly code = 'ERR_DEVNET_PROCESS'
  constructor(message: string) {
    super(message)
    this.name = 'DevnetProcessError'
  }
}

export interface DevProcessInit {
  name: string
  /** The program's JS entry (run with this node). */
  entry: string
  args: string[]
  env?: NodeJS.ProcessEnv
  /** Every output line is appended here. */
  logFile?: string
}

export class DevProcess {
  readonly name: string
  readonly init: DevProcessInit
  #child: ChildProcess | undefined
  #tail: string[] = []
  #log: WriteStream | undefined
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined
  #exited = false
  ready: Ready | undefined

  constructor(init: DevProcessInit) {
    this.name = init.name
    this.init = init
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  get running(): boolean {
    return this.#child !== undefined && !this.#exited
  }

  tail(): string {
    return this.#tail.join('\n')
  }

  /** Spawns the program and resolves with its ready line; rejects if it exits first or after timeoutMs. */
  async start(timeoutMs: number, signal?: AbortSignal): Promise<Ready> {
    const env = {
      ...process.env,
      ...this.init.env,
      CPC_DEVNET_PARENT_PID: String(process.pid),
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${pathToFileURL(PARENT_WATCH).href}`].filter(Boolean).join(' '),
    }
    if (this.init.logFile !== undefined) this.#log = createWriteStream(this.init.logFile, { flags: 'a' })
    // Its own process group: a terminal's Ctrl-C reaches only the launcher, which stops children in order.
    const child = spawn(process.execPath, [this.init.entry, ...this.init.args], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    this.#child = child
    this.#exit = new Promise((resolve) =>
      child.once('close', (code, sig) => {
        this.#exited = true
        this.#log?.end()
        resolve({ code, signal: sig })
      }),
    )
    child.once('error', (err) => this.#remember(`spawn error: ${err.message}`))
    return new Promise<Ready>((resolve, reject) => {
      let settled = false
      const finish = (fn: () => void): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        fn()
      }
      const timer = setTimeout(() => finish(() => reject(new DevnetProcessError(`${this.name} printed no ready line within ${timeoutMs / 1000} s; last output:\n${this.tail()}`))), timeoutMs)
      const onAbort = (): void => finish(() => reject(new DevnetProcessError(`${this.name}: start aborted`)))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#lines('stdout', (line) => {
        const ready = this.ready === undefined ? parseReadyLine(line) : undefined
        if (ready === undefined) return
        this.ready = ready
        finish(() => resolve(ready))
      })
      this.#lines('stderr', () => {})
      void this.#exit!.then(({ code, signal: sig }) =>
        finish(() => reject(new DevnetProcessError(`${this.name} exited (${sig ?? `code ${code}`}) before it was ready; last output:\n${this.tail()}`))),
      )
    })
  }

  /** Resolves when the process has exited (at once if it never started or already ended). */
  async exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit ?? { code: null, signal: null }
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    const child = this.#child
    if (child === undefined || this.#exited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => {
      this.#remember(`no exit ${graceMs} ms after SIGTERM: SIGKILL`)
      child.kill('SIGKILL')
    }, graceMs)
    await this.#exit
    clearTimeout(timer)
  }

  /** Last resort on the launcher's own exit path (synchronous). */
  killNow(): void {
    if (this.#child !== undefined && !this.#exited) this.#child.kill('SIGKILL')
  }

  #remember(line: string): void {
    this.#tail.push(line)
    if (this.#tail.length > TAIL_LINES) this.#tail.shift()
    this.#log?.write(`${line}\n`)
  }

  #lines(stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
    const s = this.#child![stream]!
    s.setEncoding('utf8')
    let partial = ''
    s.on('data', (chunk: string) => {
      partial += chunk
      // A pathological line without newlines must not grow without bound.
      if (partial.length > 1024 * 1024) partial = partial.slice(-1024 * 1024)
      const parts = partial.split('\n')
      partial = parts.pop()!
      for (const line of parts) {
        this.#remember(line)
        onLine(line)
      }
    })
  }
}
