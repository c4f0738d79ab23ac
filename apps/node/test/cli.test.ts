// The `cpc` CLI against real in-process nodes: two NetworkHandlers on 127.0.0.1, each serving
// NodeService on a real nice-grpc server; runCli runs as a function with captured output.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createServer } from 'node:net'
import type { NetworkHandler } from '@cpc/network'
import { PeerState } from '@cpc/protocol'
import { ServerError, Status, type ServerMiddleware } from 'nice-grpc'
import { runCli } from '../src/cli/run.js'
import { Capture, Nodes, buildApps, cliBin, run, tcpAddr } from './cli-helpers.js'

const nodes = new Nodes()
let a: NetworkHandler
let b: NetworkHandler
let addrA: string
let addrB: string
let addrAuth: string
let dir: string

async function cli(args: string[], env: Record<string, string> = {}, signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  const stdout = new Capture()
  const stderr = new Capture()
  const code = await runCli(args, { stdout, stderr, env, ...(signal !== undefined ? { signal } : {}) })
  return { code, out: stdout.text, err: stderr.text }
}

/** A `watch` run in the background; `ready` resolves once it printed its banner. */
function watchInBackground(args: string[]): { ready: Promise<void>; done: Promise<{ code: number; out: string; err: string }> } {
  const stdout = new Capture()
  const stderr = new Capture()
  let resolveReady!: () => void
  const ready = new Promise<void>((r) => (resolveReady = r))
  const origWrite = stderr.write.bind(stderr)
  stderr.write = (s: string) => {
    const r = origWrite(s)
    if (s.startsWith('watching ')) resolveReady()
    return r
  }
  const done = runCli(args, { stdout, stderr, env: {} }).then((code) => {
    resolveReady()
    return { code, out: stdout.text, err: stderr.text }
  })
  return { ready, done }
}

/** Repeats `fn` every 300 ms until `until` settles (Subscribe registers asynchronously on the node). */
async function repeatUntil<T>(until: Promise<T>, fn: () => Promise<unknown>): Promise<T> {
  let settled = false
  void until.finally(() => (settled = true))
  while (!settled) {
    await fn()
    await Promise.race([until, new Promise((r) => setTimeout(r, 300))])
  }
  return until
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cpc-cli-'))
  a = await nodes.node({ groups: ['cli-test'] })
  b = await nodes.node({ bootstrap: [tcpAddr(a)] })
  addrA = await nodes.serve(a)
  addrB = await nodes.serve(b)
  const auth: ServerMiddleware = async function* (call, context) {
    if (context.metadata.get('authorization') !== 'Bearer s3cret') throw new ServerError(Status.UNAUTHENTICATED, 'missing or wrong bearer token')
    return yield* call.next(call.request, context)
  }
  addrAuth = await nodes.serve(a, auth)
  // b dialled a: wait until a sees b connected, through the CLI itself.
  const deadline = Date.now() + 15_000
  while (a.connectionState(b.peerId) !== PeerState.PEER_STATE_CONNECTED) {
    if (Date.now() > deadline) throw new Error('b never connected to a')
    await new Promise((r) => setTimeout(r, 100))
  }
})

afterAll(async () => {
  await nodes.stopAll()
  await rm(dir, { recursive: true, force: true })
})

describe('cpc status, peers, state, score', () => {
  it('status prints identity and counts; --json has the fields', async () => {
    const human = await cli(['--addr', addrA, 'status'])
    expect(human.code).toBe(0)
    expect(human.out).toContain(a.peerId.toString())
    expect(human.out).toMatch(/peers\s+1 connected/)
    const json = await cli(['--addr', addrA, 'status', '--json'])
    expect(json.code).toBe(0)
    const s = JSON.parse(json.out) as Record<string, unknown>
    expect(s).toMatchObject({ peerId: a.peerId.toString(), connectedPeers: 1, groups: ['cli-test'] })
    expect(typeof s.uptimeMs).toBe('string') // uint64 as a string: bigint-safe
    expect(s.listenAddrs).toEqual(expect.arrayContaining([expect.stringContaining('/ip4/127.0.0.1/tcp/')]))
  })

  it('peers shows the other node in a table with a short id; --json lists it connected', async () => {
    const human = await cli(['peers'], { CPC_GRPC_ADDR: addrA })
    expect(human.code).toBe(0)
    const header = human.out.split('\n')[0]!
    expect(header).toMatch(/^PEER\s+STATE\s+LINK\s+RTT\s+LOSS\s+IN\s+OUT\s+SCORE\s+TAGS$/)
    const row = human.out.split('\n').find((l) => l.startsWith(`…${b.peerId.toString().slice(-8)}`))
    expect(row).toMatch(/CONNECTED\s+direct/)
    const json = JSON.parse((await cli(['--addr', addrA, '--json', 'peers', '--state', 'connected'])).out) as { peers: Array<{ peerId: string; state: string }> }
    expect(json.peers).toContainEqual(expect.objectContaining({ peerId: b.peerId.toString(), state: 'PEER_STATE_CONNECTED' }))
    const wide = await cli(['--addr', addrA, 'peers', '--wide'])
    expect(wide.out).toContain(b.peerId.toString())
  })

  it('state and score take a full id or the short form peers prints', async () => {
    const short = `…${b.peerId.toString().slice(-8)}`
    const human = await cli(['--addr', addrA, 'state', short])
    expect(human.code).toBe(0)
    expect(human.out).toMatch(/CONNECTED\s+since \d{4}-/)
    const json = JSON.parse((await cli(['--addr', addrA, 'state', b.peerId.toString(), '--json'])).out) as Record<string, unknown>
    expect(json).toMatchObject({ peerId: b.peerId.toString(), state: 'PEER_STATE_CONNECTED' })
    const score = await cli(['--addr', addrA, '--json', 'score', b.peerId.toString().slice(-8)])
    expect(score.code).toBe(0)
    const parsed = JSON.parse(score.out) as { score: { peerId: string; composite: number } }
    expect(parsed.score.peerId).toBe(b.peerId.toString())
    expect(parsed.score.composite).toBeGreaterThan(0)
    const humanScore = await cli(['--addr', addrA, 'score', short])
    expect(humanScore.out).toMatch(/composite\s+0\.\d{3}/)
  })

  it('an unknown peer fails with exit 1 and says why', async () => {
    const r = await cli(['--addr', addrA, 'state', 'nobody123'])
    expect(r.code).toBe(1)
    expect(r.err).toContain("unknown peer 'nobody123'")
    const send = await cli(['--addr', addrA, 'send', 'nobody123', 'hi'])
    expect(send.code).toBe(1)
  })
})

describe('cpc send, broadcast, watch, discover', () => {
  it('send at HIGH reaches the receiver, whose watch --json --count 1 prints it and exits 0', async () => {
    const w = watchInBackground(['--addr', addrB, 'watch', '--json', '--kinds', 'message', '--count', '1', '--for', '30'])
    await w.ready
    const sent = await repeatUntil(w.done, async () => {
      const r = await cli(['--addr', addrA, 'send', b.peerId.toString(), 'hello from the cli', '--priority', 'high', '--json'])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.out)).toMatchObject({ peerId: b.peerId.toString(), priority: 'HIGH', route: 'ROUTE_DIRECT' })
    })
    expect(sent.code).toBe(0)
    const lines = sent.out.trim().split('\n')
    expect(lines).toHaveLength(1)
    const event = JSON.parse(lines[0]!) as { atMs: string; message: { originPeerId: string; priority: string; payload: string; route: string } }
    expect(event.message).toMatchObject({ originPeerId: a.peerId.toString(), priority: 'HIGH', route: 'ROUTE_DIRECT' })
    expect(Buffer.from(event.message.payload, 'base64').toString()).toBe('hello from the cli')
  })

  it('send @file sends the file bytes; watch prints human lines', async () => {
    const file = path.join(dir, 'post.txt')
    await writeFile(file, 'a post from a file')
    const w = watchInBackground(['--addr', addrB, 'watch', '--kinds', 'message', '--count', '1', '--for', '30'])
    await w.ready
    const got = await repeatUntil(w.done, async () => {
      const r = await cli(['--addr', addrA, 'send', b.peerId.toString(), `@${file}`, '-p', 'low'])
      expect(r.out).toMatch(/^sent 18 B to …\w{8} at LOW: route DIRECT, nonce \d+/)
    })
    expect(got.code).toBe(0)
    expect(got.out).toMatch(/message\s+LOW from …\w{8} nonce=\d+ route=DIRECT latency=.* "a post from a file"/)
    const missing = await cli(['--addr', addrA, 'send', b.peerId.toString(), `@${path.join(dir, 'nope')}`])
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('ENOENT')
  })

  it('broadcast --scope neighbors and group:NAME reach the neighbor; bad scopes are usage errors', async () => {
    const w = watchInBackground(['--addr', addrA, 'watch', '--json', '--kinds', 'message', '--count', '1', '--for', '30'])
    await w.ready
    const got = await repeatUntil(w.done, async () => {
      const r = await cli(['--addr', addrB, 'broadcast', 'to my neighbors', '--scope', 'neighbors', '--priority', 'medium', '--json'])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.out)).toMatchObject({ scope: 'neighbors', priority: 'MEDIUM', sentTo: 1 })
    })
    const event = JSON.parse(got.out.trim()) as { message: { originPeerId: string; payload: string } }
    expect(event.message.originPeerId).toBe(b.peerId.toString())
    expect(Buffer.from(event.message.payload, 'base64').toString()).toBe('to my neighbors')
    const all = await cli(['--addr', addrB, 'broadcast', 'to everyone'])
    expect(all.code).toBe(0)
    expect(all.out).toMatch(/^broadcast 11 B to all at MEDIUM: first copy to 1 neighbor\(s\)/)
    expect((await cli(['--addr', addrB, 'broadcast', 'x', '--scope', 'group:'])).code).toBe(2)
    expect((await cli(['--addr', addrB, 'broadcast', 'x', '--scope', 'planet'])).code).toBe(2)
  })

  it('discover finds a peer by id and a group; watch --for without --count ends with 0', async () => {
    const r = await cli(['--addr', addrB, '--json', 'discover', a.peerId.toString()])
    expect(r.code).toBe(0)
    expect((JSON.parse(r.out) as { peers: Array<{ peerId: string }> }).peers.map((p) => p.peerId)).toContain(a.peerId.toString())
    const group = await cli(['--addr', addrB, '--timeout', '5', 'discover', 'group:cli-test'])
    expect(group.code).toBe(0)
    expect(group.out).toContain(`…${a.peerId.toString().slice(-8)}`)
    const quiet = await cli(['--addr', addrB, 'watch', '--kinds', 'message_expired', '--for', '0.5'])
    expect(quiet.code).toBe(0)
    const short = await cli(['--addr', addrB, 'watch', '--kinds', 'message_expired', '--count', '1', '--for', '0.5'])
    expect(short.code).toBe(1)
    expect(short.err).toContain('only 0 of 1 event(s) within 0.5 s')
  })

  it('watch ends cleanly (exit 0) when its signal aborts, as on Ctrl-C', async () => {
    const controller = new AbortController()
    const stderr = new Capture()
    const done = runCli(['--addr', addrA, 'watch'], { stdout: new Capture(), stderr, env: {}, signal: controller.signal })
    while (!stderr.text.startsWith('watching')) await new Promise((r) => setTimeout(r, 20))
    controller.abort()
    expect(await done).toBe(0)
  })
})

describe('exit codes and options', () => {
  it('usage errors exit 2', async () => {
    expect((await cli([])).code).toBe(2)
    expect((await cli(['frobnicate'])).code).toBe(2)
    expect((await cli(['send', 'only-a-peer'])).code).toBe(2)
    expect((await cli(['--addr', addrA, 'send', b.peerId.toString(), 'x', '--priority', 'urgent'])).code).toBe(2)
    expect((await cli(['--addr', addrA, 'peers', '--state', 'happy'])).code).toBe(2)
    expect((await cli(['--addr', 'not an address', 'status'])).code).toBe(2)
    expect((await cli(['--timeout', '-1', 'status'])).code).toBe(2)
    expect((await cli(['--addr', addrA, 'watch', '--kinds', 'gossip'])).code).toBe(2)
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('broadcast')
  })

  it('an unreachable address exits 3 quickly', async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    const started = Date.now()
    const r = await cli(['--addr', `127.0.0.1:${port}`, 'status'])
    expect(r.code).toBe(3)
    expect(r.err).toContain(`cannot connect to 127.0.0.1:${port}`)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a call the node rejects exits 1 with the gRPC status; --token and CPC_TOKEN send a bearer token', async () => {
    const denied = await cli(['--addr', addrAuth, 'status'])
    expect(denied.code).toBe(1)
    expect(denied.err).toContain('GetStatus failed: UNAUTHENTICATED')
    expect((await cli(['--addr', addrAuth, '--token', 's3cret', 'status'])).code).toBe(0)
    expect((await cli(['--addr', addrAuth, 'status'], { CPC_TOKEN: 's3cret' })).code).toBe(0)
    const bad = await cli(['--addr', addrA, 'discover', 'group:'])
    expect(bad.code).toBe(2)
  })

  it('the built bin runs as a process: status --json, exit codes and Ctrl-C on watch', async () => {
    buildApps(['@cpc/node'])
    const status = run(cliBin, ['--addr', addrA, 'status', '--json'])
    expect((await status.exited).code).toBe(0)
    expect(JSON.parse(status.stdout.join('\n'))).toMatchObject({ peerId: a.peerId.toString() })
    const usage = run(cliBin, ['send'])
    expect((await usage.exited).code).toBe(2)
    const w = run(cliBin, ['watch'], { env: { CPC_GRPC_ADDR: addrB } })
    await w.line((l) => l.startsWith('watching '), { stream: 'stderr', timeoutMs: 15_000 })
    w.child.kill('SIGINT')
    expect((await w.exited).code).toBe(0)
  }, 120_000)
})
