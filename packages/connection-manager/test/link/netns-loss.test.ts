// REAL loss: two network namespaces joined by a veth pair, iptables `statistic` rules dropping a
// known fraction of UDP on B's side, and LinkMonitors in child processes (one per namespace) probing
// each other for real. The CONTROL channel between them (the Noise stream in production) is the
// parent's IPC here, so only the probes cross the lossy link. Traffic stays inside the namespaces.
//
// Needs root, `ip` and `iptables` (Debian's iptables package: nf_tables or legacy both work).
// Skipped, with the reason printed, when any is missing.
import { describe, it, expect, afterAll } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const srcDir = path.resolve(here, '../../src/link')
// Inside the workspace's node_modules so the compiled files resolve @libp2p/interface.
const outDir = path.resolve(here, '../../../../node_modules/.cache', `cpc-link-netns-${process.pid}`)

const tag = `${process.pid}`
const NS_A = `cpcla${tag}`
const NS_B = `cpclb${tag}`
const VETH_A = `cpva${tag}`.slice(0, 15)
const VETH_B = `cpvb${tag}`.slice(0, 15)
const octet = 1 + (process.pid % 250)
const IP_A = `10.231.${octet}.1`
const IP_B = `10.231.${octet}.2`
const DROPS = [0, 0.02, 0.05, 0.1]
const BASE_PORT = 41000
const TARGET_PROBES = 4_000

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root'
  if (!has('ip')) return '`ip` (iproute2) not installed'
  if (!has('iptables')) return '`iptables` not installed'
  return undefined
}

function sh(args: string[], allowFail = false): void {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' })
  if (r.status !== 0 && !allowFail) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
}

function cleanup(children: ChildProcess[]): void {
  for (const c of children) if (c.exitCode == null) c.kill('SIGKILL')
  // Deleting a namespace removes its veth end (and so the pair) and its iptables rules.
  sh(['ip', 'netns', 'del', NS_A], true)
  sh(['ip', 'netns', 'del', NS_B], true)
  sh(['ip', 'link', 'del', VETH_A], true)
  fs.rmSync(outDir, { recursive: true, force: true })
}

async function compileLinkSources(): Promise<void> {
  const swc = await import('@swc/core')
  fs.mkdirSync(outDir, { recursive: true })
  for (const f of fs.readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) {
    const { code } = await swc.transformFile(path.join(srcDir, f), { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } })
    fs.writeFileSync(path.join(outDir, f.replace(/\.ts$/, '.js')), code)
  }
  fs.writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}')
  fs.writeFileSync(
    path.join(outDir, 'endpoint.js'),
    `import { LinkMonitor } from './index.js'
const [role, host, remoteHost, port] = process.argv.slice(2)
const other = { toString: () => (role === 'a' ? 'b' : 'a') }
const m = new LinkMonitor(
  { sendControl: async (_peer, control) => void process.send({ type: 'control', control }) },
  { probeHost: host, probePort: Number(port), probeIntervalMs: 2, maxProbesPerSec: 2000, maxEchoesPerSec: 4000, lossWindow: 8000, minIntervalMs: 200, maxIntervalMs: 1000 },
)
await m.start()
m.addPeer(other, { remoteHost })
process.on('message', (msg) => {
  if (msg.type === 'control') m.handleControl(other, msg.control)
  else if (msg.type === 'stats') process.send({ type: 'stats', stats: m.stats(other) ?? null })
  else if (msg.type === 'stop') void m.stop().then(() => process.exit(0))
})
process.send({ type: 'ready', port: m.probePort })
`,
  )
}

type Stats = { lossRatio: number; lossInbound?: number; lossOutbound?: number; lossSource: string; lossSamples: { inbound: number; outbound: number } } | null

interface Endpoint {
  child: ChildProcess
  ready: Promise<number>
  stats(): Promise<Stats>
}

function endpoint(ns: string, role: 'a' | 'b', host: string, remoteHost: string, port: number, children: ChildProcess[]): Endpoint {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(outDir, 'endpoint.js'), role, host, remoteHost, String(port)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  children.push(child)
  const ready = new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`endpoint ${role} in ${ns} exited with ${code}`)))
    child.on('message', (m: { type: string; port?: number }) => {
      if (m.type === 'ready') resolve(m.port ?? 0)
    })
  })
  return {
    child,
    ready,
    stats: () =>
      new Promise((resolve) => {
        const on = (m: { type: string; stats?: unknown }) => {
          if (m.type !== 'stats') return
          child.off('message', on)
          resolve(m.stats as never)
        }
        child.on('message', on)
        child.send({ type: 'stats' })
      }),
  }
}

/** Relays CONTROL messages between the two endpoints: the stand-in for the Noise stream. */
function wire(a: Endpoint, b: Endpoint): void {
  a.child.on('message', (m: { type: string }) => {
    if (m.type === 'control' && b.child.connected) b.child.send(m)
  })
  b.child.on('message', (m: { type: string }) => {
    if (m.type === 'control' && a.child.connected) a.child.send(m)
  })
}

const reason = skipReason()
if (reason != null) console.log(`netns loss test skipped: ${reason}`)
const maybe = reason == null ? it : it.skip
const children: ChildProcess[] = []

afterAll(() => {
  if (reason == null) cleanup(children)
})

describe('one-way loss over a real lossy veth link (iptables statistic drop)', () => {
  maybe(
    `measures configured random drop of ${DROPS.map((p) => `${p * 100}%`).join('/')} within 3 standard deviations (≤ 1.5 pp)`,
    async () => {
      try {
        sh(['ip', 'netns', 'add', NS_A])
        sh(['ip', 'netns', 'add', NS_B])
        sh(['ip', 'link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B])
        sh(['ip', 'link', 'set', VETH_A, 'netns', NS_A])
        sh(['ip', 'link', 'set', VETH_B, 'netns', NS_B])
        sh(['ip', '-n', NS_A, 'addr', 'add', `${IP_A}/30`, 'dev', VETH_A])
        sh(['ip', '-n', NS_B, 'addr', 'add', `${IP_B}/30`, 'dev', VETH_B])
        for (const [ns, dev] of [[NS_A, VETH_A], [NS_B, VETH_B]]) {
          sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
          sh(['ip', '-n', ns, 'link', 'set', dev, 'up'])
        }
        // One rule per pair: drop a random fraction of UDP arriving at B's probe port of that pair
        // (A → B only; B's echoes and probes to A cross untouched).
        DROPS.forEach((p, i) => {
          if (p > 0) sh(['ip', 'netns', 'exec', NS_B, 'iptables', '-A', 'INPUT', '-p', 'udp', '--dport', String(BASE_PORT + i), '-m', 'statistic', '--mode', 'random', '--probability', String(p), '-j', 'DROP'])
        })
        await compileLinkSources()

        const pairs = DROPS.map((_p, i) => {
          const a = endpoint(NS_A, 'a', IP_A, IP_B, 0, children)
          const b = endpoint(NS_B, 'b', IP_B, IP_A, BASE_PORT + i, children)
          wire(a, b)
          return { a, b }
        })
        await Promise.all(pairs.flatMap((p) => [p.a.ready, p.b.ready]))

        // Wait (polling, bounded) until B has seen TARGET_PROBES sequence numbers from A on every pair.
        const deadline = Date.now() + 20_000
        let results: Array<{ p: number; a: Stats; b: Stats }> = []
        for (;;) {
          results = await Promise.all(pairs.map(async ({ a, b }, i) => ({ p: DROPS[i], a: await a.stats(), b: await b.stats() })))
          if (results.every((r) => (r.b?.lossSamples.inbound ?? 0) >= TARGET_PROBES && (r.a?.lossSamples.outbound ?? 0) >= TARGET_PROBES)) break
          if (Date.now() > deadline) throw new Error(`not enough probes before the deadline: ${JSON.stringify(results.map((r) => r.b?.lossSamples))}`)
          await new Promise((r) => setTimeout(r, 250))
        }
        for (const r of results) {
          const n = Math.min(r.b!.lossSamples.inbound, r.a!.lossSamples.outbound)
          const tol = Math.max(0.005, 3 * Math.sqrt((r.p * (1 - r.p)) / n))
          console.log(
            `netns p=${r.p}: A outbound ${r.a?.lossOutbound?.toFixed(4)}, B inbound ${r.b?.lossInbound?.toFixed(4)}, A lossRatio ${r.a?.lossRatio.toFixed(4)}, B lossRatio ${r.b?.lossRatio.toFixed(4)}, B outbound ${r.b?.lossOutbound?.toFixed(4)}, n=${n}, tol ±${(tol * 100).toFixed(2)} pp`,
          )
          expect(r.a?.lossSource).toBe('probe')
          expect(Math.abs((r.b?.lossInbound ?? -1) - r.p)).toBeLessThanOrEqual(tol)
          expect(Math.abs((r.a?.lossOutbound ?? -1) - r.p)).toBeLessThanOrEqual(tol)
          expect(Math.abs((r.a?.lossRatio ?? -1) - r.p)).toBeLessThanOrEqual(tol)
          expect(r.b?.lossOutbound ?? 0).toBeLessThanOrEqual(0.005)
        }
      } finally {
        cleanup(children)
      }
    },
    30_000,
  )
})
