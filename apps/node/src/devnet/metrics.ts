// What the live view reads from a process's /metrics: message and byte counters of the router and the
// depth of its queues, summed over their labels (Prometheus text format, parsed just enough).
export interface MetricsSample {
  atMs: number
  messages: number
  bytes: number
  queueDepth: number
  outbox: number
}

const SUMS: Record<string, keyof Omit<MetricsSample, 'atMs'>> = {
  cpc_router_messages_sent_total: 'messages',
  cpc_router_messages_received_total: 'messages',
  cpc_router_bytes_sent_total: 'bytes',
  cpc_router_bytes_received_total: 'bytes',
  cpc_router_queue_depth: 'queueDepth',
  cpc_router_outbox_entries: 'outbox',
}

export function parseMetrics(text: string, atMs: number): MetricsSample {
  const out: MetricsSample = { atMs, messages: 0, bytes: 0, queueDepth: 0, outbox: 0 }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.lastIndexOf(' ')
    const name = line.slice(0, brace >= 0 ? brace : line.indexOf(' '))
    const key = SUMS[name]
    if (key === undefined) continue
    const value = Number(line.slice(space + 1))
    if (Number.isFinite(value)) out[key] += value
  }
  return out
}

export async function scrape(url: string, timeoutMs = 1500): Promise<MetricsSample | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) return undefined
    return parseMetrics(await res.text(), Date.now())
  } catch {
    return undefined
  }
}

/** Per-second rates between two samples of the same process. */
export function rates(prev: MetricsSample | undefined, cur: MetricsSample | undefined): { msgsPerS?: number; bytesPerS?: number } {
  if (prev === undefined || cur === undefined || cur.atMs <= prev.atMs) return {}
  const dt = (cur.atMs - prev.atMs) / 1000
  return { msgsPerS: Math.max(0, (cur.messages - prev.messages) / dt), bytesPerS: Math.max(0, (cur.bytes - prev.bytes) / dt) }
}
