// End to end: cpc-bootstrap, cpc-relay and three cpc-node processes (the third reachable only through
// the relay), built by nx and started as real processes, driven by the `cpc` binary as a process; and
// the devnet launcher (`npm start -- --for 10 --nodes 4`) ending with exit 0 and no process left.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseReadyLine, type Ready } from '../src/devnet/ready-line.js'
import { bootstrapArgs, dialable, entries, nodeArgs, relayArgs } from '../src/devnet/programs.js'
import { buildApps, cliBin, rootDir, run, type Proc } from './cli-helpers.js'

const bins = entries(rootDir)
const procs: Proc[] = []
let dir: string
const ready: Record<string, Ready> = {}

async function start(name: string, entry: string, args: string[]): Promise<Ready> {
  const p = run(entry, args)
  procs.push(p)
  const line = await p.line((l) => parseReadyLine(l) !== undefined, { timeoutMs: 60_000 })
  ready[name] = parseReadyLine(line)!
  return ready[name]
}

/** `cpc` as a process; resolves with its exit code and output. */
async function cpc(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string; err: string }> {
  const p = run(cliBin, args)
  procs.push(p)
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs)
  const { code } = await p.exited
  clearTimeout(timer)
  return { code, out: p.stdout.join('\n'), err: p.stderr.join('\n') }
}

/** `cpc watch --json --kinds message --count N` on `node`, resolved once it is subscribed (its banner). */
async function watch(node: string, count = 1): Promise<Proc> {
  const p = run(cliBin, ['--addr', ready[node]!.grpc, 'watch', '--json', '--kinds', 'message', '--count', String(count), '--for', '60'])
  procs.push(p)
  await p.line((l) => l.startsWith('watching '), { stream: 'stderr', timeoutMs: 15_000 })
  return p
}

/** Runs `act` every second until every watch has exited (Subscribe registers asynchronously), at most `timeoutMs`. */
async function until(watches: Proc[], act: () => Promise<void>, timeoutMs = 45_000): Promise<void> {
  let done = false
  const all = Promise.all(watches.map(async (w) => w.exited)).then(() => (done = true))
  const deadline = Date.now() + timeoutMs
  while (!done) {
    if (Date.now() > deadline) throw new Error(`watches still running after ${timeoutMs} ms: ${watches.map((w) => w.stderr.join(' ')).join(' | ')}`)
    await act()
    await Promise.race([all, new Promise((r) => setTimeout(r, 1000))])
  }
}

function events(w: Proc): Array<{ message: { originPeerId: string; priority: string; payload: string; route: string } }> {
  return w.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { message: { originPeerId: string; priority: string; payload: string; route: string } })
}

const text = (b64: string): string => Buffer.from(b64, 'base64').toString()

beforeAll(async () => {
  buildApps()
  dir = await mkdtemp(path.join(tmpdir(), 'cpc-e2e-'))
  const common = { logLevel: 'warn' }
  const boot = await start('bootstrap', bins.bootstrap, bootstrapArgs({ ...common, name: 'bootstrap', dataDir: path.join(dir, 'bootstrap') }))
  const bootAddr = dialable(boot.listenAddrs, boot.peerId)
  const relay = await start('relay', bins.relay, relayArgs({ ...common, name: 'relay', dataDir: path.join(dir, 'relay'), bootstrap: [bootAddr] }))
  const relayAddr = dialable(relay.listenAddrs, relay.peerId)
  await Promise.all([
    start('a', bins.node, nodeArgs({ ...common, name: 'a', dataDir: path.join(dir, 'a'), bootstrap: [bootAddr], groups: ['e2e'] })),
    start('b', bins.node, nodeArgs({ ...common, name: 'b', dataDir: path.join(dir, 'b'), bootstrap: [bootAddr], groups: ['e2e'] })),
    start('c', bins.node, nodeArgs({ ...common, name: 'c', dataDir: path.join(dir, 'c'), bootstrap: [bootAddr], relayOnly: relayAddr, groups: ['e2e'] })),
  ])
}, 180_000)

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM')
  const kill = setTimeout(() => procs.forEach((p) => p.child.kill('SIGKILL')), 10_000)
  await Promise.all(procs.map(async (p) => p.exited))
  clearTimeout(kill)
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}, 30_000)

describe('cpc-bootstrap, cpc-relay and three cpc-node processes, driven by the cpc binary', () => {
  it('cpc peers on a node lists the other nodes, the bootstrap and the relay', async () => {
    const want = ['b', 'c', 'bootstrap', 'relay'].map((n) => ready[n]!.peerId)
    let last = ''
    const deadline = Date.now() + 45_000
    for (;;) {
      const r = await cpc(['--addr', ready.a!.grpc, '--json', 'peers'])
      expect(r.code).toBe(0)
      last = r.out
      const ids = (JSON.parse(r.out) as { peers?: Array<{ peerId: string }> }).peers?.map((p) => p.peerId) ?? []
      if (want.every((id) => ids.includes(id))) break
      if (Date.now() > deadline) throw new Error(`a does not know every peer; last answer: ${last}`)
      // Discovery takes a few rounds: ask again (bounded by the deadline).
      await cpc(['--addr', ready.a!.grpc, 'discover', 'random', '--timeout', '5'])
    }
    const human = await cpc(['--addr', ready.a!.grpc, 'peers'])
    expect(human.code).toBe(0)
    expect(human.out).toMatch(/^PEER\s+STATE/)
    expect(human.out).toContain(`…${ready.b!.peerId.slice(-8)}`)
    expect(human.out).toContain(`…${ready.c!.peerId.slice(-8)}`)
  })

  it('cpc send --priority high reaches the receiver, whose cpc watch --json --count 1 prints it', async () => {
    const w = await watch('b')
    await until([w], async () => {
      const r = await cpc(['--addr', ready.a!.grpc, '--json', 'send', ready.b!.peerId, 'urgent hello', '--priority', 'high'])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.out)).toMatchObject({ priority: 'HIGH' })
    })
    expect((await w.exited).code).toBe(0)
    const [e] = events(w)
    expect(e!.message).toMatchObject({ originPeerId: ready.a!.peerId, priority: 'HIGH' })
    expect(text(e!.message.payload)).toBe('urgent hello')
  })

  it('cpc broadcast --scope all reaches every other node', async () => {
    const watches = await Promise.all([watch('b'), watch('c')])
    let n = 0
    await until(watches, async () => {
      const r = await cpc(['--addr', ready.a!.grpc, 'broadcast', `to all #${n++}`, '--scope', 'all', '--priority', 'medium'])
      expect(r.code).toBe(0)
    })
    for (const w of watches) {
      expect((await w.exited).code).toBe(0)
      const [e] = events(w)
      expect(e!.message.originPeerId).toBe(ready.a!.peerId)
      expect(text(e!.message.payload)).toMatch(/^to all #\d+$/)
    }
  })

  it('the node behind the relay receives a message sent to it', async () => {
    const w = await watch('c')
    await until([w], async () => {
      const r = await cpc(['--addr', ready.b!.grpc, '--json', 'send', ready.c!.peerId, 'through the relay', '--priority', 'high'])
      expect(r.code).toBe(0)
    })
    const [e] = events(w)
    expect(e!.message.originPeerId).toBe(ready.b!.peerId)
    expect(text(e!.message.payload)).toBe('through the relay')
    const status = JSON.parse((await cpc(['--addr', ready.c!.grpc, '--json', 'status'])).out) as { relayReservations?: number; listenAddrs?: string[] }
    expect(status.relayReservations).toBe(1)
    expect(status.listenAddrs?.every((a) => a.includes('/p2p-circuit'))).toBe(true)
  })

  it('cpc exits 3 for a node that is not there and 1 for an unknown peer', async () => {
    expect((await cpc(['--addr', '127.0.0.1:1', 'status'])).code).toBe(3)
    expect((await cpc(['--addr', ready.a!.grpc, 'state', 'no-such-peer'])).code).toBe(1)
  })
})

describe('the devnet launcher (npm start)', () => {
  it('runs --for 10 --nodes 4, exits 0 and leaves no process behind', async () => {
    const data = path.join(dir, 'devnet')
    const p = run(path.join(rootDir, 'tools/start.mjs'), ['--for', '10', '--nodes', '4', '--plain', '--rate', '5', '--data-dir', data])
    procs.push(p)
    const upLine = await p.line((l) => l.startsWith('devnet up in '), { timeoutMs: 120_000 })
    expect(upLine).toContain('6 processes on 127.0.0.1')
    const listed = p.stdout.filter((l) => /^\s+(bootstrap|relay|node-\d)\s+pid \d+/.test(l))
    expect(listed).toHaveLength(6)
    expect(listed.every((l) => /grpc 127\.0\.0\.1:\d+\s+metrics http:\/\/127\.0\.0\.1:\d+\/metrics/.test(l))).toBe(true)
    expect(listed.filter((l) => l.includes('(relay-only)'))).toHaveLength(1)
    const stopped = await p.line((l) => l.startsWith('devnet stopped'), { timeoutMs: 90_000 })
    const { code } = await p.exited
    expect(code).toBe(0)
    // The view showed traffic: some node reported messages per second above zero.
    expect(p.stdout.some((l) => /node-\d .* msgs\/s [1-9]/.test(l))).toBe(true)
    const pids = stopped.match(/pids ([\d ]+)\)/)![1]!.trim().split(' ').map(Number)
    expect(pids).toHaveLength(6)
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
  }, 180_000)

  /** The pids the launcher listed once up. */
  function listedPids(p: Proc): number[] {
    return p.stdout.map((l) => /^\s+(?:bootstrap|relay|node-\d+)\s+pid (\d+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined).map(Number)
  }

  async function gone(pids: number[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const alive = pids.filter((pid) => {
        try {
          process.kill(pid, 0)
          return true
        } catch {
          return false
        }
      })
      if (alive.length === 0) return
      if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms: ${alive.join(' ')}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  it('Ctrl-C (SIGINT) stops every child and exits 0', async () => {
    const p = run(path.join(rootDir, 'apps/node/dist/devnet/main.js'), ['--nodes', '2', '--plain', '--data-dir', path.join(dir, 'devnet-int')])
    procs.push(p)
    await p.line((l) => l.startsWith('devnet up in '), { timeoutMs: 90_000 })
    const pids = listedPids(p)
    expect(pids).toHaveLength(4)
    p.child.kill('SIGINT')
    expect((await p.exited).code).toBe(0)
    await gone(pids, 1000)
  }, 120_000)

  it('children stop by themselves when the launcher is killed with SIGKILL', async () => {
    const p = run(path.join(rootDir, 'apps/node/dist/devnet/main.js'), ['--nodes', '1', '--plain', '--data-dir', path.join(dir, 'devnet-kill')])
    procs.push(p)
    await p.line((l) => l.startsWith('devnet up in '), { timeoutMs: 90_000 })
    const pids = listedPids(p)
    expect(pids).toHaveLength(3)
    p.child.kill('SIGKILL')
    await p.exited
    // parent-watch notices within 1 s, then the program's own graceful stop (at most 5 s more).
    await gone(pids, 15_000)
  }, 120_000)
})
