// Real cpc processes for the deploy tests, started through the image's entrypoint script
// (deploy/docker/cpc-entrypoint.sh with CPC_APP_ROOT = this repo) on 127.0.0.1 with OS-chosen ports.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const deployDir = path.join(root, 'deploy')
export const entrypoint = path.join(deployDir, 'docker/cpc-entrypoint.sh')

export function missingBuild(): string | undefined {
  const need = ['apps/node/dist/main.js', 'apps/bootstrap/dist/main.js', 'apps/relay/dist/main.js', 'apps/node/dist/cli/main.js']
  const missing = need.filter((p) => !fs.existsSync(path.join(root, p)))
  return missing.length === 0 ? undefined : `not built: ${missing.join(', ')} (run npx nx run-many -t build)`
}

export interface Ready {
  peerId: string
  listen: string[]
  grpc: string | null
  metrics: string | null
}

export interface Proc {
  name: string
  child: ChildProcess
  ready: Ready
  output: () => string
}

/** Starts `cpc-entrypoint <role> ...args` and resolves with its ready line (60 s bound). */
export function startProc(name: string, role: 'node' | 'bootstrap' | 'relay', args: string[], env: Record<string, string>): Promise<Proc> {
  const child = spawn('sh', [entrypoint, role, ...args], {
    cwd: root,
    env: {
      ...process.env,
      CPC_APP_ROOT: root,
      CPC_NAME: name,
      CPC_LISTEN: '/ip4/127.0.0.1/tcp/0',
      CPC_METRICS_BIND: '127.0.0.1:0',
      CPC_GRPC_BIND: '127.0.0.1:0',
      CPC_ADDRESS_SCOPE: 'private',
      CPC_DHT_MODE: 'server',
      CPC_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name}: no ready line within 60 s`)), 60_000)
    const fail = (e: Error): void => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`))
    }
    child.once('exit', (code) => fail(new Error(`${name} exited with ${code} before ready`)))
    let ready = false
    child.stdout!.on('data', (d: Buffer) => {
      out = ready ? (out + d.toString()).slice(-8000) : out + d.toString()
      if (ready) return
      // Complete lines only; the ready line is the first JSON line with event "ready".
      for (const line of out.split('\n').slice(0, -1)) {
        if (!line.startsWith('{')) continue
        const msg = JSON.parse(line) as { event?: string } & Ready
        if (msg.event !== 'ready') continue
        ready = true
        clearTimeout(timer)
        child.removeAllListeners('exit')
        resolve({ name, child, ready: msg, output: () => `${out}\n${err}` })
        return
      }
    })
  })
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopProc(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(t)
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

/** Polls `probe` every 500 ms until it returns a value other than undefined, or throws after `ms`. */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}
