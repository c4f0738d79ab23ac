// TCP hole punching on Node 20 (lab/README.md "NAT traversal"): a wrapper around @libp2p/tcp whose
// DCUtR hole-punch dials and dials to the configured relays leave from one fixed local port (the punch
// port), every other dial from an ephemeral one. The NAT (endpoint-independent mapping, port kept when
// free) then maps the punch port to the same public port for every destination, so the mapping the
// relay observes is the one the other peer's punch dial hits. Port of `punchPortTcp` in
// lab/fixtures/libp2p-node.mjs.
//
// Why not every dial from the punch port: DCUtR's unilateral-upgrade dial (before the punch) is a SYN
// the other NAT drops, but it leaves a conntrack entry in our NAT for exactly the 4-tuple of the coming
// punch, and the punch then fails (tcpdump captures in lab/README.md).
//
// On a punched connection both connect() calls succeed (simultaneous open), so one side must upgrade
// as the responder. libp2p 3.3's dial queue drops DCUtR's `initiator: false` on the way to the
// transport, so both sides compute it alike: the peer with the smaller peer id string is the
// responder. The responder's connection must also look inbound to yamux (which picks client/server
// from `maConn.direction`, hard-coded 'outbound' by @libp2p/tcp on a dial).
import type { Connection, DialTransportOptions, MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** DCUtR's hole-punch dials (both sides) carry this dial-queue priority (@libp2p/dcutr dcutr.js). */
export const DCUTR_DIAL_PRIORITY = 100

/** 'ip:port' of a TCP multiaddr (undefined parts print as 'undefined', never matching a real target). */
export function hostPort(ma: Multiaddr): string {
  const c = ma.getComponents()
  return `${c.find((x) => x.name === 'ip4' || x.name === 'ip6')?.value}:${c.find((x) => x.name === 'tcp')?.value}`
}

/** The last /p2p/ component of a multiaddr, if any. */
function remotePeerId(ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast((x) => x.name === 'p2p')?.value
}

/** What the wrapper decided for one dial (exported for tests). */
export interface PunchDialChoice {
  /** The local port to dial from, or undefined for an ephemeral one. */
  localPort?: number
  /** Set on hole-punch dials whose remote peer id is known. */
  initiator?: boolean
}

/**
 * The choice for one dial: `localPort` for hole-punch dials (priority 100) and dials to a pinned
 * target ('ip:port' of a relay); on hole-punch dials, initiator = ourPeerId > remotePeerId.
 */
export function choosePunchDial(ma: Multiaddr, priority: number | undefined, punchPort: number, pinned: ReadonlySet<string>, ourPeerId: string): PunchDialChoice {
  const punch = priority === DCUTR_DIAL_PRIORITY
  const choice: PunchDialChoice = {}
  if (punch || pinned.has(hostPort(ma))) choice.localPort = punchPort
  if (punch) {
    const remote = remotePeerId(ma)
    if (remote !== undefined) choice.initiator = ourPeerId > remote
  }
  return choice
}

/** An upgrader whose upgradeOutbound marks the connection inbound first (the responder of a punch). */
export function responderUpgrader(upgrader: Upgrader): Upgrader {
  return Object.create(upgrader, {
    upgradeOutbound: {
      value: async (maConn: MultiaddrConnection, opts: Parameters<Upgrader['upgradeOutbound']>[1]): Promise<Connection> => {
        ;(maConn as { direction: string }).direction = 'inbound'
        return upgrader.upgradeOutbound(maConn, opts)
      },
    },
  }) as Upgrader
}

/** The dial options a Transport may see from libp2p's dial queue (priority is passed through). */
type DialOptions = DialTransportOptions & { priority?: number; localPort?: number; initiator?: boolean }

/**
 * Wraps `transport.dial` in place (keeps listen, filters and the rest of the transport) and returns it.
 * @param pinned 'ip:port' targets always dialled from the punch port (the `relay.listenVia` relays)
 */
export function wrapPunchDial<T extends Transport>(transport: T, punchPort: number, pinned: ReadonlySet<string>, ourPeerId: string): T {
  const dial = transport.dial.bind(transport)
  transport.dial = async (ma: Multiaddr, options: DialOptions) => {
    const choice = choosePunchDial(ma, options.priority, punchPort, pinned, ourPeerId)
    const o: DialOptions = { ...options }
    if (choice.localPort !== undefined) o.localPort = choice.localPort
    if (choice.initiator !== undefined) {
      o.initiator = choice.initiator
      if (!choice.initiator) o.upgrader = responderUpgrader(options.upgrader)
    }
    return dial(ma, o)
  }
  return transport
}

/**
 * A transport factory (for libp2p's `transports`) around `inner` (normally `tcp()`) with the punch-port
 * dial policy; `pinnedTargets` are the relays' multiaddrs.
 */
export function punchPortTransport<C>(
  inner: (components: C) => Transport,
  punchPort: number,
  pinnedTargets: readonly Multiaddr[],
): (components: C & { peerId: { toString(): string } }) => Transport {
  const pinned = new Set(pinnedTargets.map(hostPort))
  return (components) => wrapPunchDial(inner(components), punchPort, pinned, components.peerId.toString())
}
