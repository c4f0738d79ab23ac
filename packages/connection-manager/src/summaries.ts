// How a tracked peer is reported (gRPC PeerSummary, LinkStats) from its record and connections.
import type { common } from '@cpc/protocol'
import type { Connection } from '@libp2p/interface'
import type { PeerRecord } from './peer-record.js'

const EMPTY_SCORE: common.PeerScore = { peerId: '', uptime: 0, responsiveness: 0, stability: 0, penalty: 0, composite: 0, updatedAtMs: 0n }

/** `score` is the composite, undefined when no scorer is wired. */
export function peerSummary(rec: PeerRecord, connections: Connection[], score: number | undefined, link: common.LinkStats | undefined): common.PeerSummary {
  const conns = connections.filter((c) => c.status === 'open')
  return {
    peerId: rec.id,
    state: rec.state,
    multiaddrs: conns.map((c) => c.remoteAddr.toString()),
    score: score == null ? undefined : { ...EMPTY_SCORE, peerId: rec.id, composite: score },
    link,
    protected: rec.isProtected,
    relayed: conns.length > 0 && conns.every((c) => c.limits != null),
    tags: [...rec.tags],
  }
}

/** The proto's LinkStats fields of a link monitor's stats (which may carry more). */
export function protoLinkStats(s: common.LinkStats | undefined): common.LinkStats | undefined {
  if (s == null) return undefined
  return { rttMsEwma: s.rttMsEwma, lossRatio: s.lossRatio, bytesInPerSec: s.bytesInPerSec, bytesOutPerSec: s.bytesOutPerSec, heartbeatIntervalMs: s.heartbeatIntervalMs }
}

/** The IP of a direct connection (none for relayed ones: no UDP path to probe). */
export function directRemoteHost(connections: Connection[]): string | undefined {
  const conn = connections.find((c) => c.status === 'open' && c.limits == null)
  const parts = conn?.remoteAddr.toString().split('/')
  return parts != null && (parts[1] === 'ip4' || parts[1] === 'ip6') ? parts[2] : undefined
}
