// The "ready line" cpc-node, cpc-bootstrap and cpc-relay print on stdout once they serve (runApp in
// @cpc/network): `{"event":"ready","app","role","name","pid","peerId","listen":[...],"grpc":"host:port"|null,
// "metrics":"http://host:port/metrics"|null}`. Other stdout lines (logs) are skipped.
export interface Ready {
  peerId: string
  /** Multiaddrs with /p2p/<peerId>, as the program announces them. */
  listenAddrs: string[]
  /** host:port of the gRPC server ('' when the program serves none). */
  grpc: string
  /** http://host:port/metrics ('' when none). */
  metrics: string
  raw: Record<string, unknown>
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** The ready line's fields, or undefined for any other stdout line (logs, blank lines). */
export function parseReadyLine(line: string): Ready | undefined {
  const trimmed = line.trim()
  if (!trimmed.startsWith('{')) return undefined
  let o: Record<string, unknown>
  try {
    o = JSON.parse(trimmed) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof o !== 'object' || o === null) return undefined
  const peerId = str(o.peerId)
  if (peerId === undefined) return undefined
  if (o.event !== 'ready') return undefined
  const addrs = [o.listen, o.listenAddrs, o.multiaddrs].find(Array.isArray) as unknown[] | undefined
  let grpc = str(o.grpc) ?? str(o.grpcAddr) ?? str(o.grpcAddress) ?? ''
  grpc = grpc.replace(/^(grpc|http):\/\//, '')
  let metrics = str(o.metrics) ?? str(o.metricsUrl) ?? str(o.metricsURL) ?? ''
  if (metrics !== '' && !metrics.startsWith('http')) metrics = `http://${metrics}`
  if (metrics !== '' && !/\/metrics$/.test(metrics)) metrics = `${metrics.replace(/\/$/, '')}/metrics`
  return { peerId, listenAddrs: (addrs ?? []).filter((a): a is string => typeof a === 'string'), grpc, metrics, raw: o }
}
