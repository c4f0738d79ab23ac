// Helpers of the CLI and e2e tests: captured output, in-process nodes served over real gRPC, the
// build the process tests need, and bounded waits on a child's output lines (never fixed sleeps).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetworkHandler, createNodeService, nodeErrorMiddleware, type NetworkConfigInput } from '@cpc/network'
import { nodeApi } from '@cpc/protocol'
import { createServer, type Server, type ServerMiddleware } from 'nice-grpc'

export const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const rootDir = path.resolve(appDir, '../..')
export const cliBin = path.join(appDir, 'dist/cli/main.js')

export class Capture {
  text = ''
  isTTY = false
  write(s: string): boolean {
    this.text += s
    return true
  }
  lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '')
  }
}

/** Nodes on 127.0.0.1 (private address scope, mDNS off, relaxed shedding: jest workers stall the loop). */
export class Nodes {
  readonly #handlers: NetworkHandler[] = []
  readonly #servers: Server[] = []

  async node(config: NetworkConfigInput = {}): Promise<NetworkHandler> {
    const h = await NetworkHandler.create({
      addressScope: 'private',
      dhtMode: 'server',
      mdns: false,
      connections: { dialTimeoutMs: 1500 },
      router: { shedding: { delayMs: { lowEnter: 5000, lowExit: 2500, mediumEnter: 10_000, mediumExit: 5000 } } },
      ...config,
    })
    this.#handlers.push(h)
    await h.start()
    return h
  }

  /** NodeService of `handler` on a real nice-grpc server; returns `127.0.0.1:port`. */
  async serve(handler: NetworkHandler, middleware?: ServerMiddleware): Promise<string> {
    const server = middleware === undefined ? createServer().use(nodeErrorMiddleware) : createServer().use(middleware).use(nodeErrorMiddleware)
    server.add(nodeApi.NodeServiceDefinition, createNodeService(handler))
    const port = await server.listen('127.0.0.1:0')
    this.#servers.push(server)
    return `127.0.0.1:${port}`
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#servers.splice(0).map(async (s) => s.forceShutdown()))
    await Promise.all(this.#handlers.splice(0).map(async (h) => h.stop()))
  }
}

export function tcpAddr(h: NetworkHandler): string {
  const a = h.multiaddrs.map(String).find((m) => m.includes('/tcp/') && !m.includes('p2p-circuit'))
  if (a === undefined) throw new Error(`no tcp address on ${h.peerId.toString()}`)
  return a
}

/**
 * Builds the apps the process tests run (nx: cached when nothing changed). Jest may run the CLI and
 * e2e files in parallel workers: a lock directory keeps two builds from writing one dist at once.
 */
export function buildApps(projects = ['@cpc/node', '@cpc/bootstrap', '@cpc/relay']): void {
  const lock = path.join(rootDir, '.nx', 'cpc-test-build.lock')
  mkdirSync(path.dirname(lock), { recursive: true })
  const deadline = Date.now() + 240_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // A lock older than the deadline is a crashed run's.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 240_000) rmdirSync(lock)
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for another test build')
      spawnSync(process.execPath, ['-e', 'setTimeout(() => {}, 200)'])
    }
  }
  try {
    const nx = path.join(rootDir, 'node_modules/nx/dist/bin/nx.js')
    const r = spawnSync(process.execPath, [nx, 'run-many', '-t', 'build', `--projects=${projects.join(',')}`, '--outputStyle=stream'], { cwd: rootDir, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } })
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`)
  } finally {
    rmdirSync(lock)
  }
}

export interface Proc {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  /** Resolves with the first stdout (or stderr) line matching, counting lines already seen; rejects at the timeout or exit. */
  line(match: (line: string) => boolean, options?: { timeoutMs?: number; stream?: 'stdout' | 'stderr' }): Promise<string>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
  const child = spawn(process.execPath, [file, ...args], { cwd: options.cwd ?? rootDir, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] }
  const waiters = new Set<() => void>()
  let ended = false
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = ''
    child[name]!.setEncoding('utf8')
    child[name]!.on('data', (chunk: string) => {
      partial += chunk
      const parts = partial.split('\n')
      partial = parts.pop()!
      out[name].push(...parts)
      for (const w of waiters) w()
    })
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true
      for (const w of waiters) w()
      resolve({ code, signal })
    }),
  )
  return {
    child,
    stdout: out.stdout,
    stderr: out.stderr,
    exited,
    line: async (match, { timeoutMs = 30_000, stream = 'stdout' } = {}) =>
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const hit = out[stream].find(match)
          if (hit !== undefined) return done(() => resolve(hit))
          if (ended) done(() => reject(new Error(`${path.basename(file)} ${args.join(' ')} exited before the expected line; stdout:\n${out.stdout.join('\n')}\nstderr:\n${out.stderr.join('\n')}`)))
        }
        const timer = setTimeout(
          () => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for a ${stream} line of ${path.basename(file)} ${args.join(' ')}; stdout:\n${out.stdout.slice(-30).join('\n')}\nstderr:\n${out.stderr.slice(-30).join('\n')}`))),
          timeoutMs,
        )
        const done = (fn: () => void): void => {
          clearTimeout(timer)
          waiters.delete(check)
          fn()
        }
        waiters.add(check)
        check()
      }),
  }
}
