// Human output of the CLI: short peer ids, enum names without their prefixes, sizes, rates, aligned
// tables (cli-table3 without borders) and one line per event for `cpc watch`.
import { Event, Priority, common } from '@cpc/protocol'
import Table from 'cli-table3'

/** `12D3KooWAbc...xyz` → `…` + its last 8 characters: enough to tell a devnet's peers apart. */
export function shortId(peerId: string, wide = false): string {
  if (wide || peerId.length <= 12) return peerId
  return `…${peerId.slice(-8)}`
}

export function stateName(state: common.PeerState): string {
  return common.peerStateToJSON(state).replace(/^PEER_STATE_/, '')
}

export function routeName(route: common.Route): string {
  return common.routeToJSON(route).replace(/^ROUTE_/, '')
}

export function priorityName(priority: Priority): string {
  return priority === Priority.HIGH ? 'HIGH' : priority === Priority.MEDIUM ? 'MEDIUM' : priority === Priority.LOW ? 'LOW' : String(priority)
}

export function sourceName(source: common.DiscoverySource): string {
  return common.discoverySourceToJSON(source).replace(/^DISCOVERY_SOURCE_/, '')
}

export function bytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`
}

export function rate(n: number | undefined): string {
  return n === undefined ? '-' : `${bytes(n)}/s`
}

export function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n <= 0) return '-'
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`
}

export function percent(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '-' : `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.1 ? 1 : 0)}%`
}

export function duration(msTotal: number): string {
  const s = Math.floor(msTotal / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** An aligned table without borders, the header underlined by its own column widths. */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '' },
  })
  t.push(...rows)
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
}

/** Two columns, keys on the left. */
export function keyValues(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
}

/**
 * An Event (what SendMessage/Broadcast with `kind` wrap the payload in) when the payload decodes as one
 * with a kind, an author peer id and a creation time; undefined otherwise (human output only: a guess).
 */
function asEvent(payload: Uint8Array): Event | undefined {
  try {
    const e = Event.decode(payload)
    const printable = /^[\x20-\x7e]{1,64}$/
    return printable.test(e.kind) && e.author.length >= 34 && e.author.length <= 40 && e.createdAtMs > 0n && (e.contentId === '' || printable.test(e.contentId)) ? e : undefined
  } catch {
    return undefined
  }
}

/** A payload as readable text when it is printable UTF-8 (or an Event around such a body), else its size. */
export function preview(payload: Uint8Array, max = 80): string {
  const event = asEvent(payload)
  if (event !== undefined) return `event kind=${event.kind}${event.contentId !== '' ? ` id=${event.contentId}` : ''} ${previewText(event.body, max)}`
  return previewText(payload, max)
}

function previewText(payload: Uint8Array, max: number): string {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload)
  } catch {
    return `<${bytes(payload.length)} binary>`
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) return `<${bytes(payload.length)} binary>`
  const oneLine = text.replace(/\s+/g, ' ')
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine)
}

export function peerRow(p: common.PeerSummary, wide: boolean): string[] {
  return [
    shortId(p.peerId, wide),
    stateName(p.state),
    p.relayed ? 'relay' : p.state === common.PeerState.PEER_STATE_CONNECTED ? 'direct' : '-',
    ms(p.link?.rttMsEwma),
    percent(p.link?.lossRatio),
    rate(p.link?.bytesInPerSec),
    rate(p.link?.bytesOutPerSec),
    p.score === undefined ? '-' : p.score.composite.toFixed(2),
    p.tags.join(','),
  ]
}

export const PEER_HEAD = ['PEER', 'STATE', 'LINK', 'RTT', 'LOSS', 'IN', 'OUT', 'SCORE', 'TAGS']

/** One line of `cpc watch`: time, kind, and what happened. */
export function eventLine(event: common.NodeEvent, wide: boolean): string {
  const at = new Date(Number(event.atMs)).toISOString().slice(11, 23)
  const e = event.event
  switch (e?.$case) {
    case 'message': {
      const m = e.value
      const via = m.fromPeerId !== m.originPeerId ? ` via ${shortId(m.fromPeerId, wide)}` : ''
      const group = m.group !== '' ? ` group=${m.group}` : ''
      return `${at}  message          ${priorityName(m.priority)} from ${shortId(m.originPeerId, wide)}${via} nonce=${m.nonce} route=${routeName(m.route)}${group} latency=${ms(m.latencyMs)} ${preview(m.payload)}`
    }
    case 'peerState':
      return `${at}  peer_state       ${shortId(e.value.peerId, wide)} ${stateName(e.value.from)} → ${stateName(e.value.to)}${e.value.reason !== '' ? ` (${e.value.reason})` : ''}`
    case 'peerDiscovered':
      return `${at}  peer_discovered  ${shortId(e.value.peerId, wide)} from ${sourceName(e.value.source)} (${e.value.multiaddrs.length} addrs)`
    case 'scoreChanged':
      return `${at}  score_changed    ${shortId(e.value.score?.peerId ?? '', wide)} composite=${e.value.score?.composite.toFixed(2) ?? '-'}`
    case 'messageExpired':
      return `${at}  message_expired  to ${shortId(e.value.peerId, wide)} nonce=${e.value.nonce} (${e.value.reason})`
    default:
      return `${at}  (empty event)`
  }
}
