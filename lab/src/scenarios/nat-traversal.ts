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
/** The lab's AutoNAT v2 client (nat-node.mjs role 'probe') in a node's namespace. */
const PROBE_PORT = 4003

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
  /** app scenario: what a's and b's own `cpc status` say (reported, not checked: see lab/README.md) */
  statusReachability?: string[]
  /** app scenario: a's start → the relay's metrics showed the circuit (ms) */
  relayCircuitMs?: number
  /** app scenario: route of a's first send to b (RELAY before the upgrade, DIRECT after it) */
  firstRoute?: string
  totalMs: number
}

export interface NatOptions {
  nat?: NatMode
  /**
   * 'app' (default): the real apps, cpc-relay, cpc-bootstrap and two
   * `cpc-node --relay ... --set network.nat.punchPort=4002`; 'fixture' (env LAB_NAT_IMPL=fixture): raw
   * libp2p nodes (fixtures/libp2p-node.mjs), the reference the apps' NAT code was ported from.
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
  const impl = opts.impl ?? (process.env.LAB_NAT_IMPL === 'fixture' ? 'fixture' : 'app')
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

/** What the relay's libp2p metrics say about circuits: open STOP streams (relay → target) right now. */
function relayCircuits(relay: LabApp): number {
  return relay.metrics().get('libp2p_protocol_streams_total{protocol="outbound /libp2p/circuit/relay/0.2.0/stop"}') ?? 0
}

/**
 * AutoNAT v2 verdicts on `mapping` from each server, asked from `host`'s namespace (behind the same NAT
 * as the node there) by a lab client (fixtures/nat-node.mjs, role 'probe'). The servers are the real
 * cpc-relay and cpc-bootstrap (AutoNAT v2 server in packages/network). 'private': every server tried
 * and its dial back failed (dialStatus E_DIAL_ERROR).
 */
async function autonatV2Verdicts(lab: Lab, host: string, servers: string[], mapping: string, procs: LabProcess[]): Promise<{ verdict: string; answers: string }> {
  const probe = start(lab, host, { role: 'probe', listenPort: PROBE_PORT })
  procs.push(probe)
  await probe.waitFor((l) => l.event === 'started', 20_000, `probe@${host} started`)
  const answers = await Promise.all(servers.map((server) => ask(probe, { cmd: 'autonat2', server, addr: mapping }, 'autonat2', 50_000)))
  await probe.stop(2_000)
  const text = answers.map((x) => `${String(x.status)}/${String(x.dialStatus ?? x.statusText ?? '')}`.slice(0, 80)).join(', ')
  const verdict = answers.every((x) => x.status === 'OK' && x.dialStatus === 'E_DIAL_ERROR') ? 'private' : answers.some((x) => x.dialStatus === 'OK') ? 'public' : 'unknown'
  return { verdict, answers: text }
}

/**
 * The checks on the real apps (the default): a and b are `cpc-node`s with `nat.punchPort` (DIAL_PORT)
 * and `nat.announce` (their NAT's WAN address at DIAL_PORT); the relay and the bootstrap are cpc-relay
 * and cpc-bootstrap. Every app runs AutoNAT v2 (client and server). Reachability: the relay's own AutoNAT
 * v2 client must get its public listen address confirmed (the relay's `cpc status` reachability turns
 * 'public': libp2p announces an unannounced public transport address only once AutoNAT verified it);
 * each node's listener mapping is put to the relay's and the bootstrap's AutoNAT v2 servers from the
 * node's namespace (both must answer E_DIAL_ERROR: private), and a raw TCP connect from the public side
 * is the ground truth beside it. The relayed connection: b holds a reservation, a is given only b's
 * relayed address, and the relay's metrics must show the circuit (an open STOP stream); the direct one
 * is the kernel's: an established socket from DIAL_PORT to the other NAT's DIAL_PORT on both sides
 * (ss); the message on the direct path is a `cpc send` whose route is DIRECT, seen by b's `cpc watch`.
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
  const procs: LabProcess[] = []
  let circuitPoll: ReturnType<typeof setInterval> | undefined
  try {
    const relay = await startApp(lab, 'relay', 'relay', { dataDir: path.join(dataRoot, 'relay'), listenPort: LISTEN_PORT })
    apps.push(relay)
    const boot = await startApp(lab, 'boot', 'bootstrap', { dataDir: path.join(dataRoot, 'boot'), listenPort: LISTEN_PORT, args: ['--bootstrap', relay.addr()] })
    apps.push(boot)
    stage = 'relay reachability (AutoNAT v2)'
    // The bootstrap dials the relay; the relay's AutoNAT v2 client asks it to dial back its address.
    const relayRaw = await tcpConnect(lab, 'boot', lab.node('relay').ip, LISTEN_PORT)
    const relayReach = await pollUntil('relay reachability public', () => (String((relay.cli(['status']).json as { reachability?: string } | undefined)?.reachability) === 'public' ? 'public' : undefined), step, 500).catch(() => 'not confirmed')
    res.autonatRelay = relayReach === 'public' && relayRaw.ok ? 'public' : `${relayReach} (raw TCP ${relayRaw.ok ? 'reachable' : 'unreachable'})`
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
    // Circuits through the relay, sampled from its /metrics from before a starts (DCUtR may close the
    // relayed connection a few seconds after it opened).
    let circuitSeenAt: number | undefined
    circuitPoll = setInterval(() => {
      if (circuitSeenAt === undefined && relayCircuits(relay) >= 1) circuitSeenAt = Date.now()
    }, 250)
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

    const inbox = b.watch(['--kinds', 'message'], 'inbox@b')
    await pollUntil('cpc watch subscribed', () => (inbox.stderrTail.includes('watching') ? true : undefined), 15_000, 100)
    const payload = (l: JsonLine): string | undefined => {
      const m = l.message as { payload?: string } | undefined
      return m?.payload != null ? Buffer.from(m.payload, 'base64').toString('utf8') : undefined
    }

    stage = 'relayed connection'
    // a's connection manager dials its bootstrap peers at start, b through the relay (the only address
    // a is given for b; b's announced NAT mapping drops unsolicited SYNs), so a connection to b before
    // the hole punch is the relayed one; the relay's STOP stream shows the circuit. DCUtR may already
    // have upgraded it by now: the first send's route is reported (RELAY or DIRECT), not required.
    await pollUntil('a connected to b', () => ((a.cli(['peers', '--state', 'connected']).json?.peers ?? []).some((p) => p.peerId === b.peerId) ? true : undefined), 3 * step, 200)
    await pollUntil('a circuit on the relay', () => circuitSeenAt, step, 100)
    res.relayCircuitMs = (circuitSeenAt ?? 0) - tRelayed
    const first = a.cli(['send', b.peerId, 'hello relay', '--priority', 'high'])
    if (first.status !== 0) throw new Error(`cpc send: exit ${first.status}: ${first.stderr.slice(0, 200)}`)
    res.firstRoute = String(first.json?.route)
    if (res.firstRoute !== 'ROUTE_RELAY' && res.firstRoute !== 'ROUTE_DIRECT') throw new Error(`first send route ${res.firstRoute}`)
    await inbox.waitFor((l) => payload(l) === 'hello relay', step, 'relayed message')
    res.relayed = true

    stage = 'dcutr'
    await pollUntil('punched socket on a and b', () => (punchedSockets(lab, 'a', natB, DIAL_PORT) > 0 && punchedSockets(lab, 'b', natA, DIAL_PORT) > 0 ? true : undefined), step, 100)
    res.direct = true
    res.directAddr = `/ip4/${natB}/tcp/${DIAL_PORT}`
    res.holePunchMs = Date.now() - tRelayed

    stage = 'message on the direct path'
    // The router prefers a direct connection once libp2p holds one (the relayed one may linger).
    await pollUntil(
      'a send with route DIRECT',
      () => {
        const r = a.cli(['send', b.peerId, 'hello direct', '--priority', 'high'])
        return String(r.json?.route) === 'ROUTE_DIRECT' ? r : undefined
      },
      step,
      500,
    )
    await inbox.waitFor((l) => payload(l) === 'hello direct', step, 'direct message')
    res.messageOnDirect = true

    stage = 'reachability (nodes, AutoNAT v2)'
    // Asked last: the probes are extra peers on the servers, and an unanswered dial back takes up to
    // the server's dial timeout; the verdicts do not depend on the order.
    const verdicts = await Promise.all(
      (['a', 'b'] as const).map(async (host) => {
        const nat = lab.node(host === 'a' ? 'nat-a' : 'nat-b').ip
        const v = await autonatV2Verdicts(lab, host, [relay.addr(), boot.addr()], `/ip4/${nat}/tcp/${LISTEN_PORT}`, procs)
        const raw = await tcpConnect(lab, 'boot', nat, LISTEN_PORT)
        return { ...v, raw: raw.ok }
      }),
    )
    res.statusReachability = [a, b].map((x) => String((x.cli(['status']).json as { reachability?: string } | undefined)?.reachability))
    for (const v of verdicts) {
      res.autonatAnswers.push(v.answers)
      res.autonatNodes.push(v.verdict === 'private' && !v.raw ? 'private' : `unexpected: ${v.verdict}; raw ${v.raw ? 'reachable' : 'unreachable'}`)
    }
    res.ok = res.reservations && res.relayed && res.direct && res.messageOnDirect && res.autonatNodes.every((x) => x === 'private') && res.autonatRelay === 'public'
    if (!res.ok) res.failure = `checks: ${JSON.stringify({ autonatNodes: res.autonatNodes, autonatRelay: res.autonatRelay })}`
  } catch (err) {
    res.failure = `${stage}: ${(err as Error).message.slice(0, 600)}`
  } finally {
    if (circuitPoll !== undefined) clearInterval(circuitPoll)
    if (process.env.LAB_DEBUG != null) for (const x of [...apps.map((y) => y.proc), ...procs]) process.stderr.write(`--- ${x.label}\n${x.lines.map((l) => JSON.stringify(l)).join('\n')}\n${x.stderrTail}\n`)
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
