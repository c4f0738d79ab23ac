// Spawns a built cpc-net binary (dist/main.js) as a real process, waits for its JSON ready line on
// stdout (no fixed sleeps), and stops it with SIGTERM. Every wait has a timeout.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's apps/ folder (this file is packages/test-support/src/app-process.ts). */
export const appsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../apps')

/** The built entry point of an app; throws a clear message when the build is missing. */
export function binary(app: 'node' | 'bootstrap' | 'relay'): string {
  const file = path.join(appsDir, app, 'dist', 'main.js')
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx nx run-many -t build)`)
  return file
}

export interface ReadyLine {
  event: 'ready'
  app: string
  role: string
  name: string
  pid: number
  peerId: string
  listen: string[]
  grpc: string | null
  metrics: string | null
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class AppProcess {
  readonly child: ChildProcess
  readonly lines: string[] = []
  stderr = ''
  readonly exited: Promise<Exit>
  readonly #ready: Promise<ReadyLine>

  constructor(file: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })))
    let buffered = ''
    this.#ready = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        let nl
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl)
          buffered = buffered.slice(nl + 1)
          this.lines.push(line)
          try {
            const parsed = JSON.parse(line) as { event?: string }
            if (parsed.event === 'ready') resolve(parsed as ReadyLine)
          } catch {
            reject(new Error(`not a JSON line on stdout: ${line}`))
          }
        }
      })
      void this.exited.then((e) => reject(new Error(`exited before ready (code ${e.code}, signal ${e.signal}): ${this.stderr.slice(-2000)}`)))
    })
    this.#ready.catch(() => {})
    this.child.stderr!.on('data', (chunk: Buffer) => {
      // Keep only the tail: a chatty debug log must not grow without bound.
      this.stderr = (this.stderr + chunk.toString()).slice(-64 * 1024)
    })
  }

  async ready(timeoutMs = 30_000): Promise<ReadyLine> {
    return withTimeout(this.#ready, timeoutMs, 'ready line')
  }

  /** SIGTERM, then the exit (SIGKILL if it takes longer than timeoutMs). */
  async stop(timeoutMs = 15_000): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    try {
      return await withTimeout(this.exited, timeoutMs, 'exit after SIGTERM')
    } catch (err) {
      this.child.kill('SIGKILL')
      throw err
    }
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `fn` until it returns a value other than undefined, or fails after timeoutMs. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`)
  return res.text()
}

/** Sum of the samples of `name` (exact metric name) whose labels include every pair of `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m === null || m[1] !== name) continue
    const labelText = m[2] ?? ''
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue
    sum = (sum ?? 0) + Number(m[3])
  }
  return sum
}
