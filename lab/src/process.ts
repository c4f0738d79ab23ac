// Child processes inside a lab namespace (`ip netns exec NS argv`), speaking JSON lines on stdout.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { LabTimeoutError } from './errors.js'

export type JsonLine = Record<string, unknown> & { event?: string }

/** Bounds on what a child may buffer in the parent. */
const MAX_LINES = 10_000
const STDERR_TAIL = 8_192

export class LabProcess {
  readonly child: ChildProcess
  readonly lines: JsonLine[] = []
  readonly exited: Promise<number | null>
  stderrTail = ''
  private waiters = new Set<() => void>()
  private partial = ''

  constructor(
    readonly label: string,
    ns: string,
    argv: string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk))
    this.child.stderr!.setEncoding('utf8')
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL)
    })
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.notify()
        resolve(code)
      })
      this.child.once('error', (err) => {
        this.stderrTail += String(err)
        this.notify()
        resolve(null)
      })
    })
  }

  get running(): boolean {
    return this.child.exitCode == null && this.child.signalCode == null
  }

  private onData(chunk: string): void {
    this.partial += chunk
    let nl: number
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl).trim()
      this.partial = this.partial.slice(nl + 1)
      if (line === '') continue
      try {
        const parsed = JSON.parse(line) as JsonLine
        if (this.lines.length < MAX_LINES) this.lines.push(parsed)
      } catch {
        this.stderrTail = (this.stderrTail + `[stdout] ${line}\n`).slice(-STDERR_TAIL)
      }
    }
    this.notify()
  }

  private notify(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Sends one JSON line to the child's stdin. */
  send(msg: Record<string, unknown>): void {
    if (this.child.stdin?.writable === true) this.child.stdin.write(JSON.stringify(msg) + '\n')
  }

  find(pred: (l: JsonLine) => boolean): JsonLine | undefined {
    return this.lines.find(pred)
  }

  /** Resolves with the first line (already seen or future) matching pred; rejects on timeout or exit. */
  waitFor(pred: (l: JsonLine) => boolean, timeoutMs: number, what = 'a line'): Promise<JsonLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.lines.find(pred)
        if (hit != null) return done(() => resolve(hit))
        if (!this.running) done(() => reject(new Error(`${this.label} exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}; stderr: ${this.stderrTail.slice(-1500)}`)))
      }
      const timer = setTimeout(() => done(() => reject(new LabTimeoutError(`${this.label}: no ${what} within ${timeoutMs} ms; stderr: ${this.stderrTail.slice(-1500)}`))), timeoutMs)
      const done = (fn: () => void): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        fn()
      }
      this.waiters.add(check)
      check()
    })
  }

  /** Asks the child to stop (stdin closed + SIGTERM), SIGKILL after graceMs. */
  async stop(graceMs = 2_000): Promise<void> {
    if (!this.running) return
    this.child.stdin?.end()
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  killSync(): void {
    if (this.running) this.child.kill('SIGKILL')
  }
}
