// What GetStatus reports beyond counts: reachability and relay reservations, read from the node's
// own addresses (AutoNAT confirms or drops addresses; reachability is read from what it leaves).
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

export type Reachability = 'unknown' | 'public' | 'private'

const PRIVATE_V4 = [/^10\./, /^127\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./, /^0\./]

export function isCircuit(ma: Multiaddr): boolean {
  return ma.getComponents().some((c) => c.name === 'p2p-circuit')
}

/** True for an IP address a host elsewhere on the internet could dial. */
export function isPublicAddress(ma: Multiaddr): boolean {
  const ip = ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
  if (ip?.value === undefined) return false
  if (ip.name === 'ip4') return !PRIVATE_V4.some((re) => re.test(ip.value!))
  const v = ip.value.toLowerCase()
  return !(v === '::1' || v === '::' || v.startsWith('fc') || v.startsWith('fd') || v.startsWith('fe80'))
}

/** Relay reservations we hold = our announced /p2p-circuit addresses. */
export function relayReservations(addrs: readonly Multiaddr[]): number {
  return addrs.filter(isCircuit).length
}

/**
 * public: a direct public address is announced (confirmed by AutoNAT or configured as announce);
 * private: no such address, but we are reachable through a relay reservation;
 * unknown: neither (e.g. loopback-only devnets, or before AutoNAT has an answer).
 * `natMappings` (config nat.announce) are announced for hole punching only: the NAT accepts nothing on
 * them unsolicited, so they never make a node public.
 */
export function reachability(addrs: readonly Multiaddr[], natMappings: readonly string[] = []): Reachability {
  const mapped = new Set(natMappings.map((m) => withoutPeer(multiaddr(m))))
  if (addrs.some((a) => !isCircuit(a) && isPublicAddress(a) && !mapped.has(withoutPeer(a)))) return 'public'
  if (addrs.some(isCircuit)) return 'private'
  return 'unknown'
}

/** The address without its trailing /p2p/<id>, as nat.announce lists it. */
function withoutPeer(ma: Multiaddr): string {
  return ma.toString().replace(/\/p2p\/[^/]+$/, '')
}
