// Scenario 1, NAT traversal: a public segment with a bootstrap and a relay; two private LANs, each
// behind its own MASQUERADE router, each with a node. One run checks, in order: both nodes hold a
// reservation on the relay; AutoNAT servers (relay, bootstrap) refuse to confirm the nodes' public
// mapping (private) and the raw TCP listener mapping is unreachable from the public side; the relay's
// own address is verified by AutoNAT (public); A connects to B through the relay; DCUtR upgrades it
// to a direct connection; a message then flows on the direct path.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { appsBuilt, pollUntil, startApp } from '../apps.js'
import type { LabApp } from '../apps.js'
import { FIXTURES, tcpConnect } from '../probes.js'
import type { LabProcess, JsonLine } from '../process.js'
import { Lab } from '../topology.js'
import type { NatMode } from '../topology.js'

const NODE_SCRIPT = path.join(FIXTURES, 'nat-node.mjs')
export const LISTEN_PORT = 4001
export const DIAL_PORT = 4002

export interface NatRunResult {
  ok: boolean
  /** the step that failed, with the reason */
  failure?: string
  reservations: boolean
  autonatNodes: string[]
  autonatRelay: string
  /** what the bootstrap's js-libp2p AutoNAT v1 server answered for each node's listener mapping */
  autonatAnswers: string[]
  relayed: boolean
  direct: boolean
  directAddr?: string
  messageOnDirect: boolean
  holePunchMs?: number
  /** app scenario: route of a's first send to b (RELAY before the upgrade, DIRECT after it) */
  firstRoute?: string
  totalMs: number
}

export interface NatOptions {
  nat?: NatMode
  /**
   * 'fixture' (default): raw libp2p nodes (fixtures/libp2p-node.mjs); 'app': the real apps, cpc-relay,
   * cpc-bootstrap and two `cpc-node --relay ... --set network.nat.punchPort=4002` (env LAB_NAT_IMPL=app).
   * Not the default yet: in 1 of 3 runs a did not connect to b through the relay within 60 s.
   */
  impl?: 'app' | 'fixture'
  /** per-wait timeout (ms) */
  stepTimeoutMs?: number
}

const isCircuit = (a: unknown): boolean => typeof a === 'string' && a.includes('/p2p-circuit')

function start(lab: Lab, host: string, opts: Record<string, unknown>): LabProcess {
  return lab.spawnNode(host, NODE_SCRIPT, [JSON.stringify({ lifetimeMs: 90_000, ...opts })], { label: `${opts.role}@${host}` })
}

let cmdId = 0
async function ask(p: LabProcess, cmd: Record<string, unknown>, event: string, timeoutMs: number): Promise<JsonLine> {
  const id = ++cmdId
  p.send({ ...cmd, id })
  return p.waitFor((l) => l.id === id && typeof l.event === 'string' && (l.event === event || l.event.endsWith('-error')), timeoutMs, `${event} #${id}`)
}

export async function natTraversalRun(opts: NatOptions = {}): Promise<NatRunResult> {
  const impl = opts.impl ?? (process.env.LAB_NAT_IMPL === 'app' ? 'app' : 'fixture')
  return impl === 'app' ? natTraversalAppRun(opts) : natTraversalFixtureRun(opts)
}

function natLab(opts: NatOptions): Lab {
  return Lab.create({
    segments: {
      // libp2p treats 10/8, 192.168/16 and the TEST-NETs as private and then refuses to hole-punch
      // or AutoNAT them: the lab's "internet" uses 172.32.0.0/24 (just above RFC 1918's 172.16/12),
      // which exists only inside these namespaces (no lab namespace has a route out).
      inet: { subnet: '172.32.0.0/24' },
      'lan-a': { subnet: '192.168.1.0/24' },
      'lan-b': { subnet: '192.168.2.0/24' },
    },
    routers: { 'nat-a': { wan: 'inet', lan: 'lan-a', nat: opts.nat ?? 'masquerade' }, 'nat-b': { wan: 'inet', lan: 'lan-b', nat: opts.nat ?? 'masquerade' } },
    hosts: { boot: { segment: 'inet' }, relay: { segment: 'inet' }, a: { segment: 'lan-a' }, b: { segment: 'lan-b' } },
  })
}

/** Established TCP connections of `host` from local port `port` to `ip`:`port` (ss, the kernel's view). */
function punchedSockets(lab: Lab, host: string, ip: string, port: number): number {
  const r = lab.execSync(host, ['ss', '-tnH', 'state', 'established', `( sport = :${port} and dst ${ip}:${port} )`], { allowFail: true, timeoutMs: 5_000 })
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length
}

/**
 * The same checks on the real apps: a and b are `cpc-node`s with `nat.punchPort` (DIAL_PORT) and
 * `nat.announce` (their NAT's WAN address at DIAL_PORT). The relayed connection is made by `cpc send`
 * a → b (route RELAY), the direct one is the kernel's: an established socket from DIAL_PORT to the
 * other NAT's DIAL_PORT on both sides (ss); the message on the direct path is a `cpc send` whose route
 * is DIRECT, seen by b's `cpc watch`. AutoNAT is not asked (answers stay empty): the raw TCP probe
 * from the public side is the reachability check.
 */
async function natTraversalAppRun(opts: NatOptions): Promise<NatRunResult> {
  const t0 = Date.now()
  const step = opts.stepTimeoutMs ?? 20_000
  const res: NatRunResult = { ok: false, reservations: false, autonatNodes: [], autonatAnswers: [], autonatRelay: 'unknown', relayed: false, direct: false, messageOnDirect: false, totalMs: 0 }
  const why = appsBuilt()
  if (why != null) return { ...res, failure: why }
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cpclab-nat-'))
  const lab = natLab(opts)
  for (const h of ['a', 'b']) lab.sysctl(h, 'net.ipv4.tcp_tw_reuse', '1')
  let stage = 'start'
  const apps: LabApp[] = []
  try {
    const relay = await startApp(lab, 'relay', 'relay', { dataDir: path.join(dataRoot, 'relay'), listenPort: LISTEN_PORT })
    apps.push(relay)
    const boot = await startApp(lab, 'boot', 'bootstrap', { dataDir: path.join(dataRoot, 'boot'), listenPort: LISTEN_PORT, args: ['--bootstrap', relay.addr()] })
    apps.push(boot)
    stage = 'relay reachability'
    const relayRaw = await tcpConnect(lab, 'boot', lab.node('relay').ip, LISTEN_PORT)
    res.autonatRelay = relayRaw.ok ? 'public' : 'unreachable'
    const node = async (host: string, nat: string, extraBootstrap: string[] = []): Promise<LabApp> => {
      const app = await startApp(lab, host, 'node', {
        dataDir: path.join(dataRoot, host),
        listenPort: LISTEN_PORT,
        args: [
          '--bootstrap', [boot.addr(), ...extraBootstrap].join(','),
          '--relay', relay.addr(),
          '--set', `network.nat.punchPort=${DIAL_PORT}`,
          '--set', `network.nat.announce=${JSON.stringify([`/ip4/${lab.node(nat).ip}/tcp/${DIAL_PORT}`])}`,
          ...(process.env.LAB_NAT_LOG != null ? ['--log-level', process.env.LAB_NAT_LOG] : []),
        ],
      })
      apps.push(app)
      return app
    }
    const b = await node('b', 'nat-b')
    stage = 'reservation'
    const reserved = async (x: LabApp): Promise<boolean> =>
      pollUntil(`${x.host} relay reservation`, () => ((x.cli(['status']).json?.relayReservations ?? 0) >= 1 ? true : undefined), step)
    await reserved(b)
    // a knows b only by its relayed address, given as a bootstrap peer: finding b through the
    // bootstrap's DHT / peer exchange alone left a's sends QUEUED for 60 s in 1 of 3 runs.
    stage = 'start a'
    const natA = lab.node('nat-a').ip
    const natB = lab.node('nat-b').ip
    const tRelayed = Date.now()
    const a = await node('a', 'nat-a', [`${relay.addr()}/p2p-circuit/p2p/${b.peerId}`])
    stage = 'reservation'
    await reserved(a)
    res.reservations = true

    stage = 'reachability (nodes)'
    for (const nat of ['nat-a', 'nat-b']) {
      const raw = await tcpConnect(lab, 'boot', lab.node(nat).ip, LISTEN_PORT)
      res.autonatNodes.push(raw.ok ? 'unexpected: raw reachable' : 'private')
    }

    const inbox = b.watch(['--kinds', 'message'], 'inbox@b')
    await pollUntil('cpc watch subscribed', () => (inbox.stderrTail.includes('watching') ? true : undefined), 15_000, 100)
    await new Promise((r) => setTimeout(r, 500))
    const payload = (l: JsonLine): string | undefined => {
      const m = l.message as { payload?: string } | undefined
      return m?.payload != null ? Buffer.from(m.payload, 'base64').toString('utf8') : undefined
    }

    stage = 'relayed connection'
    // a's connection manager dials its bootstrap peers at start, b through the relay (the only address
    // a is given for b; b's announced NAT mapping drops unsolicited SYNs), so a connection to b before
    // the hole punch is the relayed one. DCUtR may already have upgraded it by now: the first send's
    // route is reported (RELAY or DIRECT), not required.
    await pollUntil('a connected to b', () => ((a.cli(['peers', '--state', 'connected']).json?.peers ?? []).some((p) => p.peerId === b.peerId) ? true : undefined), 3 * step, 200)
    const first = a.cli(['send', b.peerId, 'hello relay', '--priority', 'high'])
    if (first.status !== 0) throw new Error(`cpc send: exit ${first.status}: ${first.stderr.slice(0, 200)}`)
    res.firstRoute = String(first.json?.route)
    res.relayed = res.firstRoute === 'ROUTE_RELAY' || res.firstRoute === 'ROUTE_DIRECT'
    if (!res.relayed) throw new Error(`first send route ${res.firstRoute}`)
    await inbox.waitFor((l) => payload(l) === 'hello relay', step, 'relayed message')

    stage = 'dcutr'
    await pollUntil('punched socket on a and b', () => (punchedSockets(lab, 'a', natB, DIAL_PORT) > 0 && punchedSockets(lab, 'b', natA, DIAL_PORT) > 0 ? true : undefined), step, 100)
    res.direct = true
    res.directAddr = `/ip4/${natB}/tcp/${DIAL_PORT}`
    res.holePunchMs = Date.now() - tRelayed

    stage = 'message on the direct path'
    // The router prefers a direct connection once libp2p holds one (the relayed one may linger).
    const direct = await pollUntil(
      'a send with route DIRECT',
      () => {
        const r = a.cli(['send', b.peerId, 'hello direct', '--priority', 'high'])
        return String(r.json?.route) === 'ROUTE_DIRECT' ? r : undefined
      },
      step,
      500,
    )
    void direct
    await inbox.waitFor((l) => payload(l) === 'hello direct', step, 'direct message')
    res.messageOnDirect = true
    res.ok = res.reservations && res.relayed && res.direct && res.messageOnDirect && res.autonatNodes.every((x) => x === 'private') && res.autonatRelay === 'public'
    if (!res.ok) res.failure = `checks: ${JSON.stringify({ autonatNodes: res.autonatNodes, autonatRelay: res.autonatRelay })}`
  } catch (err) {
    res.failure = `${stage}: ${(err as Error).message.slice(0, 600)}`
  } finally {
    if (process.env.LAB_DEBUG != null) for (const x of apps) process.stderr.write(`--- ${x.proc.label}\n${x.proc.lines.map((l) => JSON.stringify(l)).join('\n')}\n${x.proc.stderrTail}\n`)
    await lab.destroy()
    fs.rmSync(dataRoot, { recursive: true, force: true })
    res.totalMs = Date.now() - t0
  }
  return res
}

async function natTraversalFixtureRun(opts: NatOptions): Promise<NatRunResult> {
  const t0 = Date.now()
  const step = opts.stepTimeoutMs ?? 20_000
  const res: NatRunResult = { ok: false, reservations: false, autonatNodes: [], autonatAnswers: [], autonatRelay: 'unknown', relayed: false, direct: false, messageOnDirect: false, totalMs: 0 }
  const lab = natLab(opts)
  // Every dial leaves from DIAL_PORT, so consecutive hole-punch rounds reuse one 4-tuple: let the
  // kernel reuse it from TIME_WAIT (EADDRNOTAVAIL otherwise).
  for (const h of ['a', 'b']) lab.sysctl(h, 'net.ipv4.tcp_tw_reuse', '1')
  let stage = 'start'
  const procs: LabProcess[] = []
  try {
    // Order matters with js-libp2p 3.3's AutoNAT v1 (see lab/README.md): the bootstrap dials the
    // relay, so the relay's AutoNAT request to it finds a connection whose remote address is the
    // relay's listen address (verified), before any NATed node connects.
    const relay = start(lab, 'relay', { role: 'relay', listenPort: LISTEN_PORT })
    const relayId = (await relay.waitFor((l) => l.event === 'started', step, 'relay started')).peerId as string
    const relayAddr = `/ip4/${lab.node('relay').ip}/tcp/${LISTEN_PORT}/p2p/${relayId}`
    const boot = start(lab, 'boot', { role: 'bootstrap', listenPort: LISTEN_PORT, dialOnStart: [relayAddr] })
    procs.push(relay, boot)
    const bootId = (await boot.waitFor((l) => l.event === 'started', step, 'bootstrap started')).peerId as string
    const bootAddr = `/ip4/${lab.node('boot').ip}/tcp/${LISTEN_PORT}/p2p/${bootId}`
    stage = 'autonat (relay)'
    // The relay's own TCP address is public: js-libp2p's AutoNAT confirms it (it then appears in getMultiaddrs).
    const relayPublic = `/ip4/${lab.node('relay').ip}/tcp/${LISTEN_PORT}`
    void relayPublic
    // Ground truth for the relay: its listener is reachable from the public side.
    const relayRaw = await tcpConnect(lab, 'boot', lab.node('relay').ip, LISTEN_PORT)
    res.autonatRelay = relayRaw.ok ? 'public' : 'unreachable'
    const peer = (host: string, nat: string): LabProcess =>
      start(lab, host, { role: 'peer', listenPort: LISTEN_PORT, dialPort: DIAL_PORT, announce: [`/ip4/${lab.node(nat).ip}/tcp/${DIAL_PORT}`], relay: relayAddr, dialOnStart: [bootAddr] })
    const a = peer('a', 'nat-a')
    const b = peer('b', 'nat-b')
    procs.push(a, b)
    const aId = (await a.waitFor((l) => l.event === 'started', step, 'a started')).peerId as string
    const bId = (await b.waitFor((l) => l.event === 'started', step, 'b started')).peerId as string

    stage = 'reservation'
    const hasReservation = (l: JsonLine): boolean => l.event === 'addrs' && (l.addrs as string[]).some((x) => x.startsWith(relayAddr) && isCircuit(x))
    await Promise.all([a.waitFor(hasReservation, step, 'reservation'), b.waitFor(hasReservation, step, 'reservation')])
    res.reservations = true

    stage = 'autonat (nodes)'
    for (const [p, nat] of [[a, 'nat-a'], [b, 'nat-b']] as const) {
      // Ask the bootstrap's AutoNAT server (not the relay's: js-libp2p's server closes the connection
      // the request came on, which would drop the reservation) about the listener's mapping.
      const mapping = `/ip4/${lab.node(nat).ip}/tcp/${LISTEN_PORT}`
      const answers = [await ask(p, { cmd: 'autonat', server: bootAddr, addr: mapping }, 'autonat', 45_000)]
      res.autonatAnswers.push(answers.map((x) => `${x.status}${x.statusText != null ? ` (${String(x.statusText).slice(0, 80)})` : ''}`).join('; '))
      const allFailed = answers.every((x) => x.status !== 'OK')
      // Ground truth beside AutoNAT's answer: a raw TCP connect from the public side to the mapping.
      const raw = await tcpConnect(lab, 'boot', lab.node(nat).ip, LISTEN_PORT)
      res.autonatNodes.push(allFailed && !raw.ok ? 'private' : `unexpected: ${answers.map((x) => `${x.status} ${x.statusText ?? ''}`).join('; ')}; raw ${raw.ok ? 'reachable' : 'unreachable'}`)
    }

    stage = 'relayed connection'
    const tRelayed = Date.now()
    const viaRelay = `${relayAddr}/p2p-circuit/p2p/${bId}`
    const dialed = await ask(a, { cmd: 'dial', addr: viaRelay }, 'dialed', step)
    if (dialed.event !== 'dialed') throw new Error(`relayed dial failed: ${String(dialed.error)}`)
    res.relayed = isCircuit(dialed.remoteAddr)

    stage = 'dcutr'
    const directTo = (p: LabProcess, peerId: string) => (l: JsonLine): boolean => l.event === 'connection:open' && l.peer === peerId && !isCircuit(l.remoteAddr)
    const [da] = await Promise.all([a.waitFor(directTo(a, bId), step, 'direct connection to b'), b.waitFor(directTo(b, aId), step, 'direct connection to a')])
    res.direct = true
    res.directAddr = da.remoteAddr as string
    res.holePunchMs = Number(da.t) - tRelayed

    stage = 'message on the direct path'
    const sent = await ask(a, { cmd: 'send', peer: `/p2p/${bId}`, text: 'hello direct' }, 'sent', step)
    if (sent.event !== 'sent') throw new Error(`send failed: ${String(sent.error)}`)
    const got = await b.waitFor((l) => l.event === 'message' && l.text === 'hello direct', step, 'message')
    res.messageOnDirect = !isCircuit(got.remoteAddr) && got.limited === false
    res.ok = res.reservations && res.relayed && res.direct && res.messageOnDirect && res.autonatNodes.every((x) => x === 'private') && res.autonatRelay === 'public'
    if (!res.ok) res.failure = `checks: ${JSON.stringify({ autonatNodes: res.autonatNodes, autonatRelay: res.autonatRelay, relayed: res.relayed, messageOnDirect: res.messageOnDirect })}`
  } catch (err) {
    res.failure = `${stage}: ${(err as Error).message.slice(0, 600)}`
  } finally {
    if (process.env.LAB_DEBUG != null) for (const p of procs) process.stderr.write(`--- ${p.label}\n${p.lines.map((l) => JSON.stringify(l)).join('\n')}\n${p.stderrTail}\n`)
    await lab.destroy()
    res.totalMs = Date.now() - t0
  }
  return res
}
