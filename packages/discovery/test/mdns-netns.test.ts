// mDNS between two network namespaces joined by a veth pair that this test creates and removes.
// @libp2p/mdns multicasts on every interface it can see, so it only ever runs inside these
// namespaces (lo + the test's veth, addresses 10.232.x.x/30); the fixture refuses to run elsewhere.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { afterAll, describe, expect, it } from '@jest/globals'

const here = path.dirname(new URL(import.meta.url).pathname)
const pkgDir = path.resolve(here, '..')
const fixture = path.join(here, 'fixtures/mdns-node.mjs')
const requiredDist = [
  path.join(pkgDir, 'dist/index.js'),
  path.join(pkgDir, '../protocol/dist/index.js'),
  path.join(pkgDir, '../observability/dist/node-compat.js'),
]

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)'
  if (spawnSync('ip', ['-V']).status !== 0) return 'the `ip` command (iproute2) is missing'
  const missing = requiredDist.filter((f) => !fs.existsSync(f))
  if (missing.length > 0) return `build first (the child processes import dist): missing ${missing.join(', ')}`
  return undefined
}

const reason = skipReason()
if (reason !== undefined) console.warn(`mdns-netns.test.ts skipped: ${reason}`)
const describeIf = reason === undefined ? describe : describe.skip

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`)
}

interface Child {
  proc: ChildProcessWithoutNullStreams
  lines: Array<Record<string, unknown>>
  wait(pred: (l: Record<string, unknown>) => boolean, what: string, timeoutMs: number): Promise<Record<string, unknown>>
}

function runChild(ns: string, addr: string, veth: string): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture, addr, veth], { cwd: pkgDir })
  const lines: Array<Record<string, unknown>> = []
  const waiters = new Set<() => void>()
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      lines.push({ event: 'raw', line })
    }
    for (const w of waiters) w()
  })
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  return {
    proc,
    lines,
    wait: (pred, what, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find(pred)
          if (hit !== undefined) {
            done()
            resolve(hit)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`${ns}: timed out waiting for ${what}; lines ${JSON.stringify(lines)}; stderr ${stderr}`))
        }, timeoutMs)
        const onExit = (code: number | null): void => {
          done()
          reject(new Error(`${ns}: exited (${code}) before ${what}; lines ${JSON.stringify(lines)}; stderr ${stderr}`))
        }
        const done = (): void => {
          clearTimeout(timer)
          waiters.delete(check)
          proc.off('exit', onExit)
        }
        waiters.add(check)
        proc.once('exit', onExit)
        check()
      }),
  }
}

async function stopChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()))
  child.proc.stdin.end()
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

describeIf('mDNS across two network namespaces', () => {
  const id = process.pid
  const nsA = `cpcmdns${id}a`
  const nsB = `cpcmdns${id}b`
  const vethA = `cva${id}`.slice(0, 15)
  const vethB = `cvb${id}`.slice(0, 15)
  const subnet = `10.232.${id % 250}`
  const children: Child[] = []
  let created = false

  function cleanup(): void {
    for (const ns of [nsA, nsB]) spawnSync('ip', ['netns', 'del', ns])
    created = false
  }

  afterAll(async () => {
    await Promise.all(children.map(stopChild))
    if (created) cleanup()
  })

  it('two nodes find and connect to each other with no bootstrap', async () => {
    try {
      ip('netns', 'add', nsA)
      created = true
      ip('netns', 'add', nsB)
      ip('link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB)
      ip('link', 'set', vethA, 'netns', nsA)
      ip('link', 'set', vethB, 'netns', nsB)
      ip('-n', nsA, 'addr', 'add', `${subnet}.1/30`, 'dev', vethA)
      ip('-n', nsB, 'addr', 'add', `${subnet}.2/30`, 'dev', vethB)
      for (const [ns, veth] of [
        [nsA, vethA],
        [nsB, vethB],
      ]) {
        ip('-n', ns, 'link', 'set', 'lo', 'up')
        ip('-n', ns, 'link', 'set', veth, 'up')
        // Without this route multicast has nowhere to go and mDNS fails silently.
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', veth)
      }
      const a = runChild(nsA, `${subnet}.1`, vethA)
      const b = runChild(nsB, `${subnet}.2`, vethB)
      children.push(a, b)
      const [readyA, readyB] = await Promise.all([
        a.wait((l) => l.event === 'ready', 'ready', 20_000),
        b.wait((l) => l.event === 'ready', 'ready', 20_000),
      ])
      const started = Date.now()
      await Promise.all([
        a.wait((l) => l.event === 'discovered' && l.peer === readyB.peer && l.source === 'mdns', 'mDNS discovery of B', 30_000),
        b.wait((l) => l.event === 'discovered' && l.peer === readyA.peer && l.source === 'mdns', 'mDNS discovery of A', 30_000),
        a.wait((l) => l.event === 'connected' && l.peer === readyB.peer, 'a connection to B', 30_000),
        b.wait((l) => l.event === 'connected' && l.peer === readyA.peer, 'a connection to A', 30_000),
      ])
      console.log(`mDNS: discovered and connected across namespaces in ${Date.now() - started} ms`)
      const found = a.lines.find((l) => l.event === 'discovered' && l.peer === readyB.peer) as { multiaddrs: string[] }
      expect(found.multiaddrs.some((m) => m.includes(`${subnet}.2`))).toBe(true)
    } finally {
      await Promise.all(children.map(stopChild))
      cleanup()
    }
  }, 60_000)
})
