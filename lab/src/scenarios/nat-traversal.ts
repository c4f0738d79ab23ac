// Scenario 1, NAT traversal: a public segment with a bootstrap and a relay; two private LANs, each
// behind its own MASQUERADE router, each with a node. One run checks, in order: both nodes hold a
// reservation on the relay; AutoNAT servers (relay, bootstrap) refuse to confirm the nodes' public
// mapping (private) and the raw TCP listener mapping is unreachable from the public side; the relay's
// own address is verified by AutoNAT (public); A connects to B through the relay; DCUtR upgrades it
// to a direct connection; a message then flows on the direct path.
import path from 'node:path'
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
  totalMs: number
}

export interface NatOptions {
  nat?: NatMode
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
  const t0 = Date.now()
  const step = opts.stepTimeoutMs ?? 20_000
  const res: NatRunResult = { ok: false, reservations: false, autonatNodes: [], autonatAnswers: [], autonatRelay: 'unknown', relayed: false, direct: false, messageOnDirect: false, totalMs: 0 }
  const lab = Lab.create({
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
