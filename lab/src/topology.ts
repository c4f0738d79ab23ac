// A declarative network lab: hosts and NAT routers are Linux network namespaces, segments are a
// bridge in their own namespace (or a veth pair for a point-to-point link). Every veth end is
// created directly inside a lab namespace (`ip -n NS link add ... peer ... netns NS2`): nothing is
// ever added to the host's own namespace, and no lab namespace has a link or a route out of the
// lab, so lab traffic cannot leave it. destroy() deletes every namespace (and with it every link,
// address, route, iptables rule and qdisc); exit/signal handlers and sweepStale() catch the rest.
import { register, unregister } from './cleanup.js'
import { LabSpecError, LabUnavailableError } from './errors.js'
import { hostAddress, parseSubnet } from './ipv4.js'
import type { Subnet } from './ipv4.js'
import { deleteNamespace, nsName, sweepStale } from './names.js'
import { LabProcess } from './process.js'
import { has, sh } from './sh.js'
import type { ShResult } from './sh.js'

/**
 * `masquerade`: `iptables -t nat -A POSTROUTING -o wan -j MASQUERADE` plus the stateful filter of a
 * home router (unsolicited inbound on the WAN is dropped silently, not refused). Linux keeps the
 * source port when it is free on the WAN address, and maps a (source ip, port) to the same WAN port
 * for every destination while one mapping lives: endpoint-independent mapping, address-and-port
 * dependent filtering (a "port-restricted cone").
 * `masquerade-random`: the same with `--random-fully` (a fresh random WAN port per connection: the
 * "symmetric NAT" that defeats hole punching), for contrast.
 */
export type NatMode = 'masquerade' | 'masquerade-random' | 'none'

export interface SegmentSpec {
  /** e.g. '10.201.0.0/24'. Only ever configured inside lab namespaces. */
  subnet: string
  /** 'bridge' (default, any number of members) or 'p2p' (a veth pair, exactly two members). */
  kind?: 'bridge' | 'p2p'
}

export interface RouterSpec {
  /** The segment its `wan` interface sits on. */
  wan: string
  /** The segment its `lan` interface serves; hosts there get it as their default gateway. */
  lan: string
  nat?: NatMode
}

export interface HostSpec {
  segment: string
}

export interface TopologySpec {
  segments: Record<string, SegmentSpec>
  routers?: Record<string, RouterSpec>
  hosts: Record<string, HostSpec>
}

export interface Iface {
  dev: string
  ip: string
  prefix: number
  segment: string
}

export interface LabNode {
  name: string
  kind: 'host' | 'router'
  ns: string
  ifaces: Iface[]
  /** The first interface's address (a host's only one; a router's WAN address). */
  ip: string
}

export interface LossSpec {
  /** Probability 0..1 of dropping each packet arriving on the interface (incl. forwarded ones). */
  inbound?: number
  /** Probability 0..1 of dropping each packet leaving through the interface. */
  outbound?: number
  /** Restrict to one protocol (default: every packet). */
  proto?: 'udp' | 'tcp' | 'icmp'
}

export interface RateSpec {
  /** tc rate, e.g. '8mbit' */
  rate: string
  /** bucket size, e.g. '32kb' (default: ~4 ms worth of the rate, at least 16 kb) */
  burst?: string
  /** max queueing delay, e.g. '50ms' (default) */
  latency?: string
}

export interface LabInit {
  /** Name tag: namespaces are `cpclab-<pid>-<name>`; defaults to a counter so two labs in one process never collide. */
  tag?: string
  /** Install exit/SIGINT/SIGTERM/uncaughtException handlers that destroy the lab (default true). */
  exitHandlers?: boolean
  /** Remove leftovers of dead lab processes first (default true). */
  sweep?: boolean
}

let labCounter = 0

export function labAvailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root'
  for (const bin of ['ip', 'iptables', 'tc']) if (!has(bin)) return `\`${bin}\` not installed`
  return undefined
}

export class Lab {
  readonly nodes = new Map<string, LabNode>()
  readonly tag: string
  private readonly namespaces: string[] = []
  private readonly processes = new Set<LabProcess>()
  private destroyed = false

  private constructor(
    readonly spec: TopologySpec,
    init: LabInit,
  ) {
    this.tag = init.tag ?? `l${labCounter++}`
    register(this, init.exitHandlers ?? true)
  }

  /** Builds the topology. On any failure it removes what it made and rethrows. */
  static create(spec: TopologySpec, init: LabInit = {}): Lab {
    const why = labAvailable()
    if (why != null) throw new LabUnavailableError(why)
    if (init.sweep ?? true) sweepStale()
    const lab = new Lab(spec, init)
    try {
      lab.build()
    } catch (err) {
      lab.destroySync()
      throw err
    }
    return lab
  }

  private ns(name: string): string {
    return nsName(process.pid, `${this.tag}-${name}`)
  }

  private addNs(ns: string): void {
    sh(['ip', 'netns', 'add', ns])
    this.namespaces.push(ns)
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
  }

  private build(): void {
    const { segments, hosts } = this.spec
    const routers = this.spec.routers ?? {}
    const subnets = new Map<string, Subnet>()
    const nextIndex = new Map<string, number>()
    const members = new Map<string, Array<{ node: LabNode; dev: string; index?: number }>>()
    for (const [name, seg] of Object.entries(segments)) {
      subnets.set(name, parseSubnet(seg.subnet))
      // Hosts from .10 on (room for routers below); small subnets (a /30 wire) from .1.
      nextIndex.set(name, parseSubnet(seg.subnet).prefix >= 27 ? 1 : 10)
      members.set(name, [])
    }
    const segmentOf = (seg: string, who: string): Subnet => {
      const s = subnets.get(seg)
      if (s == null) throw new LabSpecError(`${who}: unknown segment '${seg}'`)
      return s
    }
    const gateway = new Map<string, string>()
    // Routers first, so a LAN's gateway is its first address (.1).
    for (const [name, r] of Object.entries(routers)) {
      segmentOf(r.wan, `router ${name}`)
      segmentOf(r.lan, `router ${name}`)
      if (gateway.has(r.lan)) throw new LabSpecError(`segment '${r.lan}' has two routers`)
      const node: LabNode = { name, kind: 'router', ns: this.ns(name), ifaces: [], ip: '' }
      this.nodes.set(name, node)
      members.get(r.wan)!.push({ node, dev: 'wan' })
      members.get(r.lan)!.push({ node, dev: 'lan', index: 1 })
      gateway.set(r.lan, hostAddress(subnets.get(r.lan)!, 1))
    }
    for (const [name, h] of Object.entries(hosts)) {
      if (this.nodes.has(name)) throw new LabSpecError(`duplicate node name '${name}'`)
      segmentOf(h.segment, `host ${name}`)
      const node: LabNode = { name, kind: 'host', ns: this.ns(name), ifaces: [], ip: '' }
      this.nodes.set(name, node)
      members.get(h.segment)!.push({ node, dev: 'eth0' })
    }
    for (const node of this.nodes.values()) this.addNs(node.ns)

    for (const [segName, seg] of Object.entries(segments)) {
      const list = members.get(segName)!
      const subnet = subnets.get(segName)!
      const assign = (m: { node: LabNode; dev: string; index?: number }): Iface => {
        let index = m.index
        if (index == null) {
          index = nextIndex.get(segName)!
          if (gateway.has(segName) && index === 1) index = 2
          nextIndex.set(segName, index + 1)
        }
        const iface = { dev: m.dev, ip: hostAddress(subnet, index), prefix: subnet.prefix, segment: segName }
        m.node.ifaces.push(iface)
        // A router's WAN address is its main address.
        if (m.node.ip === '' || m.dev === 'wan') m.node.ip = iface.ip
        return iface
      }
      if ((seg.kind ?? 'bridge') === 'p2p') {
        if (list.length !== 2) throw new LabSpecError(`p2p segment '${segName}' needs exactly 2 members, has ${list.length}`)
        const [a, b] = list
        sh(['ip', '-n', a.node.ns, 'link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.node.ns])
      } else {
        const sw = this.ns(`sw-${segName}`)
        this.addNs(sw)
        sh(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge'])
        sh(['ip', '-n', sw, 'link', 'set', 'br0', 'up'])
        list.forEach((m, i) => {
          sh(['ip', '-n', sw, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', m.dev, 'netns', m.node.ns])
          sh(['ip', '-n', sw, 'link', 'set', `p${i}`, 'master', 'br0'])
          sh(['ip', '-n', sw, 'link', 'set', `p${i}`, 'up'])
        })
      }
      for (const m of list) {
        const iface = assign(m)
        sh(['ip', '-n', m.node.ns, 'addr', 'add', `${iface.ip}/${iface.prefix}`, 'dev', m.dev])
        sh(['ip', '-n', m.node.ns, 'link', 'set', m.dev, 'up'])
      }
    }

    for (const [name, h] of Object.entries(hosts)) {
      const gw = gateway.get(h.segment)
      if (gw != null) sh(['ip', '-n', this.nodes.get(name)!.ns, 'route', 'add', 'default', 'via', gw])
    }
    for (const [name, r] of Object.entries(routers)) this.configureRouter(this.nodes.get(name)!, r)
  }

  private configureRouter(node: LabNode, r: RouterSpec): void {
    const ipt = (...args: string[]): ShResult => sh(['ip', 'netns', 'exec', node.ns, 'iptables', '-w', '5', ...args])
    sh(['ip', 'netns', 'exec', node.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    const nat = r.nat ?? 'masquerade'
    if (nat === 'none') return
    ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', ...(nat === 'masquerade-random' ? ['--random-fully'] : []))
    // A home router's filter: replies to what the LAN opened pass; anything unsolicited from the
    // WAN is dropped silently (no RST: a RST would tear down the peer's half of a hole punch).
    for (const chain of ['INPUT', 'FORWARD']) {
      ipt('-A', chain, '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
      ipt('-A', chain, '-i', 'wan', '-j', 'DROP')
    }
  }

  node(name: string): LabNode {
    const n = this.nodes.get(name)
    if (n == null) throw new LabSpecError(`no node '${name}'`)
    return n
  }

  /** Runs argv inside the node's namespace (bounded), throws on failure unless allowFail. */
  execSync(node: string, argv: string[], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): ShResult {
    return sh(['ip', 'netns', 'exec', this.node(node).ns, ...argv], opts)
  }

  /** Starts argv inside the node's namespace; the lab kills it on destroy. */
  spawn(node: string, argv: string[], opts: { label?: string; env?: NodeJS.ProcessEnv } = {}): LabProcess {
    const p = new LabProcess(opts.label ?? node, this.node(node).ns, argv, opts.env)
    this.processes.add(p)
    void p.exited.then(() => this.processes.delete(p))
    return p
  }

  /** Starts `node <script> ...args` (this Node binary) inside the node's namespace. */
  spawnNode(node: string, script: string, args: string[] = [], opts: { label?: string; env?: NodeJS.ProcessEnv } = {}): LabProcess {
    return this.spawn(node, [process.execPath, script, ...args], opts)
  }

  private iface(node: string, dev?: string): { n: LabNode; dev: string } {
    const n = this.node(node)
    const d = dev ?? n.ifaces[0]?.dev
    if (d == null || !n.ifaces.some((i) => i.dev === d)) throw new LabSpecError(`${node} has no interface ${dev}`)
    return { n, dev: d }
  }

  /**
   * Random loss on one interface with iptables' `statistic` match (this kernel has no netem). Rules
   * live in the mangle table (PREROUTING/POSTROUTING), so they hit local and forwarded traffic
   * alike. Replaces any loss set before on that interface.
   */
  setLoss(node: string, loss: LossSpec, dev?: string): void {
    const { n, dev: d } = this.iface(node, dev)
    const ipt = (...args: string[]): ShResult => sh(['ip', 'netns', 'exec', n.ns, 'iptables', '-w', '5', '-t', 'mangle', ...args])
    const chains = { inbound: `CPCLAB-IN-${d}`, outbound: `CPCLAB-OUT-${d}` }
    for (const [dir, chain] of Object.entries(chains)) {
      // -N fails when the chain exists already; the flush empties it either way.
      sh(['ip', 'netns', 'exec', n.ns, 'iptables', '-w', '5', '-t', 'mangle', '-N', chain], { allowFail: true })
      ipt('-F', chain)
      const hook = dir === 'inbound' ? ['PREROUTING', '-i', d] : ['POSTROUTING', '-o', d]
      if (sh(['ip', 'netns', 'exec', n.ns, 'iptables', '-w', '5', '-t', 'mangle', '-C', hook[0], ...hook.slice(1), '-j', chain], { allowFail: true }).status !== 0) {
        ipt('-A', hook[0], ...hook.slice(1), '-j', chain)
      }
      const p = loss[dir as 'inbound' | 'outbound'] ?? 0
      if (p > 0) ipt('-A', chain, ...(loss.proto != null ? ['-p', loss.proto] : []), '-m', 'statistic', '--mode', 'random', '--probability', p.toFixed(6), '-j', 'DROP')
    }
  }

  clearLoss(node: string, dev?: string): void {
    this.setLoss(node, {}, dev)
  }

  /** Token-bucket rate limit (`tc qdisc replace ... tbf`) on the interface's egress. */
  setRate(node: string, rate: RateSpec, dev?: string): void {
    const { n, dev: d } = this.iface(node, dev)
    sh(['ip', 'netns', 'exec', n.ns, 'tc', 'qdisc', 'replace', 'dev', d, 'root', 'tbf', 'rate', rate.rate, 'burst', rate.burst ?? '32kb', 'latency', rate.latency ?? '50ms'])
  }

  clearRate(node: string, dev?: string): void {
    const { n, dev: d } = this.iface(node, dev)
    sh(['ip', 'netns', 'exec', n.ns, 'tc', 'qdisc', 'del', 'dev', d, 'root'], { allowFail: true })
  }

  /** Sets a sysctl inside one node (e.g. net.ipv4.ip_local_port_range). */
  sysctl(node: string, key: string, value: string): void {
    sh(['ip', 'netns', 'exec', this.node(node).ns, 'sysctl', '-qw', `${key}=${value}`])
  }

  /** Every namespace this lab made (hosts, routers, switches). */
  get namespaceNames(): string[] {
    return [...this.namespaces]
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop(1_000)))
    this.destroySync()
  }

  /** Synchronous, idempotent: kills the lab's processes and deletes every namespace it made. */
  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    for (const p of this.processes) p.killSync()
    for (const ns of [...this.namespaces].reverse()) deleteNamespace(ns)
    this.namespaces.length = 0
    unregister(this)
  }
}
