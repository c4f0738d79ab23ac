// The live view: per process peers, states, RTT, loss, msgs/s, bytes/s and queue depth, from its gRPC
// API (GetStatus, ListPeers) and its /metrics. On a terminal the table is redrawn in place (cursor up,
// rewrite, clear the rest); otherwise a plain line per process is printed every few seconds.
import { common, type nodeApi } from '@cpc/protocol'
import { bytes, duration, ms, percent, shortId, table } from '../cli/format.js'
import { rates, type MetricsSample } from './metrics.js'
import type { TrafficCounts } from './traffic.js'

export interface ViewRow {
  name: string
  role: string
  peerId: string
  relayOnly: boolean
  status?: nodeApi.GetStatusResponse
  peers?: common.PeerSummary[]
  prev?: MetricsSample
  cur?: MetricsSample
  error?: string
}

export interface Out {
  write(text: string): unknown
}

const STATE_LETTER: Record<number, string> = {
  [common.PeerState.PEER_STATE_CONNECTED]: 'C',
  [common.PeerState.PEER_STATE_CONNECTING]: 'c',
  [common.PeerState.PEER_STATE_DISCONNECTING]: 'd',
  [common.PeerState.PEER_STATE_DISCONNECTED]: 'D',
}

function states(peers: common.PeerSummary[] | undefined): string {
  if (peers === undefined) return '-'
  const counts = new Map<string, number>()
  for (const p of peers) {
    const l = STATE_LETTER[p.state] ?? '?'
    counts.set(l, (counts.get(l) ?? 0) + 1)
  }
  const out = ['C', 'c', 'd', 'D', '?'].filter((l) => counts.has(l)).map((l) => `${l}${counts.get(l)}`)
  const relayed = peers.filter((p) => p.relayed).length
  return (out.join(' ') || '-') + (relayed > 0 ? ` (${relayed} relayed)` : '')
}

function mean(values: number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length
}

export function rowCells(r: ViewRow): string[] {
  const connected = (r.peers ?? []).filter((p) => p.state === common.PeerState.PEER_STATE_CONNECTED)
  const rtt = mean(connected.map((p) => p.link?.rttMsEwma ?? 0).filter((x) => x > 0))
  const loss = mean(connected.filter((p) => (p.link?.rttMsEwma ?? 0) > 0).map((p) => p.link!.lossRatio))
  const { msgsPerS, bytesPerS } = rates(r.prev, r.cur)
  const queue = r.cur === undefined ? '-' : `${r.cur.queueDepth}${r.cur.outbox > 0 ? ` +${r.cur.outbox} outbox` : ''}`
  const s = r.status
  const note = r.error !== undefined ? `! ${r.error}` : r.relayOnly ? `relay-only, ${s?.relayReservations ?? 0} reservation(s)` : s !== undefined && s.reachability !== 'unknown' ? s.reachability : ''
  return [
    r.name,
    shortId(r.peerId),
    s === undefined ? '-' : `${s.connectedPeers}/${s.knownPeers}`,
    states(r.peers),
    ms(rtt),
    percent(loss),
    msgsPerS === undefined ? '-' : msgsPerS.toFixed(1),
    bytesPerS === undefined ? '-' : `${bytes(bytesPerS)}/s`,
    queue,
    note,
  ]
}

const HEAD = ['PROCESS', 'PEER', 'PEERS', 'STATES', 'RTT', 'LOSS', 'MSG/S', 'BYTES/S', 'QUEUE', '']

export function header(elapsedMs: number, nodes: number, t: TrafficCounts): string {
  return `cpc-net devnet: ${nodes} node(s), up ${duration(elapsedMs)}; traffic sent LOW/MEDIUM/HIGH ${t.sent.LOW}/${t.sent.MEDIUM}/${t.sent.HIGH}, broadcasts ${t.broadcasts}, shed ${t.shed}, failed ${t.failed}${t.lastError !== '' ? ` (last: ${t.lastError.slice(0, 80)})` : ''}`
}

export class LiveView {
  readonly #out: Out
  readonly #tty: boolean
  #lastLines = 0

  constructor(out: Out, tty: boolean) {
    this.#out = out
    this.#tty = tty
  }

  render(rows: ViewRow[], elapsedMs: number, nodes: number, traffic: TrafficCounts): void {
    if (this.#tty) {
      const frame = [
        header(elapsedMs, nodes, traffic),
        '',
        table(HEAD, rows.map(rowCells)),
        '',
        'STATES: C connected, c connecting, d disconnecting, D disconnected. MSG/S, BYTES/S: router in+out. QUEUE: outbound frames waiting. Ctrl-C stops everything.',
      ]
        .join('\n')
        .split('\n')
      const up = this.#lastLines > 0 ? `\x1b[${this.#lastLines}F` : ''
      this.#out.write(`${up}${frame.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`)
      this.#lastLines = frame.length
      return
    }
    const t = `[${duration(elapsedMs)}]`
    const lines = [`${t} ${header(elapsedMs, nodes, traffic)}`]
    for (const r of rows) {
      const [name, peer, peers, st, rtt, loss, msgs, bps, queue, note] = rowCells(r)
      lines.push(`${t} ${name} ${peer} peers ${peers} states ${st} rtt ${rtt} loss ${loss} msgs/s ${msgs} bytes/s ${bps} queue ${queue}${note !== '' ? ` ${note}` : ''}`)
    }
    this.#out.write(`${lines.join('\n')}\n`)
  }
}
