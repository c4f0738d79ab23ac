// Scenario 2 on the real node: two cpc-node processes on a point-to-point link. For each configured
// random drop (iptables statistic on y's inbound: every packet x → y, the probes and the TCP
// connection alike), both nodes' reported loss (`cpc_link_loss_ratio{stat="max"}` on /metrics, the
// LinkMonitor's worse one-way loss from its UDP probes) must be within ±1.5 pp of the configured
// drop, once a whole fresh loss window (2,000 probes) has been sent under that setting. The probe
// interval is lowered with `--set network.link.probeIntervalMs=N` so a window fills in seconds.
// Then a tbf cap on x's egress while x bulk-sends to y through gRPC: the receiver's channel
// throughput (`cpc_channel_bytes_total{direction="in"}` rate) must be within 10 % of the cap. The
// sender must saturate the cap for that to mean anything: the nodes run with a 4 MiB yamux stream
// window and tbf with a 10 ms queue (`latency`). With the app's 512 KiB window and tbf's 50 ms queue one
// stream is bounded by window / RTT, and the RTT is mostly tbf's own queue: at load 12-17 the sender
// reached 25-40 Mbit/s of a 50 Mbit/s cap (wire, `tc -s`) whatever the calls in flight or payload size.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { appsBuilt, pollUntil, startApp } from '../apps.js'
import type { LabApp } from '../apps.js'
import { FIXTURES } from '../probes.js'
import { Lab } from '../topology.js'

/** LinkMonitor's loss window (DEFAULT_LOSS_WINDOW in @cpc/connection-manager src/link/constants.ts). */
export const LOSS_WINDOW = 2_000
export const LOSS_TOLERANCE = 0.015
/** tbf's queue bound and the nodes' stream window for the rate check (see the header). */
export const TBF_LATENCY = '10ms'
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024

export interface NodeLossRow {
  configured: number
  /** x's and y's reported loss (cpc_link_loss_ratio{stat="max"}) */
  reportedX: number
  reportedY: number
  /** probes x sent under this setting before the reading */
  probes: number
  waitedMs: number
  ok: boolean
}

export interface NodeRateRow {
  rate: string
  bitsPerSec: number
  /** y's channel bytes in, rate over the steady part of the bulk send */
  measured: number
  /** x's LinkMonitor throughput EWMA (cpc peers --json link.bytesOutPerSec × 8) at the end */
  linkMonitorOut?: number
  calls: number
  errors: number
  firstError?: string
  /** x's channel bytes out over the same window: the sender's side of the same counter */
  sent: number
  /** bytes tbf sent on x's eth0 over the window (`tc -s qdisc`), as bits/s */
  wire: number
  /** wire ≥ 90 % of the cap: the cap, not the sender, limited the flow */
  saturated: boolean
  ok: boolean
}

export interface NodeLossResult {
  loss: NodeLossRow[]
  rate: NodeRateRow[]
  probeIntervalMs: number
  failure?: string
}

export interface NodeLossOptions {
  probeIntervalMs?: number
  drops?: number[]
  rates?: Array<[string, number]>
  /** bulk-send duration per rate (ms) */
  bulkMs?: number
  /** SendMessage calls in flight (default 8) and payload size (default 256 KiB) */
  bulkConcurrency?: number
  bulkBytes?: number
  /** tbf queue bound (tc's `latency`, default 50ms) and the nodes' yamux stream window (bytes; default the app's) */
  tbfLatency?: string
  streamWindowBytes?: number
}

const metric = (app: LabApp, key: string): number => app.metrics().get(key) ?? NaN

/** Bytes the root qdisc (tbf) of x's eth0 has sent so far. */
function tbfSent(lab: Lab): number {
  const out = lab.execSync('x', ['tc', '-s', 'qdisc', 'show', 'dev', 'eth0']).stdout
  return Number(/Sent (\d+) bytes/.exec(out)?.[1] ?? NaN)
}

export async function nodeLossTruth(opts: NodeLossOptions = {}): Promise<NodeLossResult> {
  const interval = opts.probeIntervalMs ?? 10
  const tbfLatency = opts.tbfLatency ?? TBF_LATENCY
  const window = opts.streamWindowBytes ?? STREAM_WINDOW_BYTES
  const res: NodeLossResult = { loss: [], rate: [], probeIntervalMs: interval }
  const missing = appsBuilt()
  if (missing != null) return { ...res, failure: missing }
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cpclab-loss-'))
  const lab = Lab.create({ segments: { wire: { subnet: '10.201.9.0/30', kind: 'p2p' } }, hosts: { x: { segment: 'wire' }, y: { segment: 'wire' } } })
  let stage = 'start'
  try {
    const common = ['--address-scope', 'private', '--set', `network.link.probeIntervalMs=${interval}`, '--set', `network.connections.maxStreamWindowBytes=${window}`]
    const x = await startApp(lab, 'x', 'node', { dataDir: path.join(dataRoot, 'x'), args: common })
    const y = await startApp(lab, 'y', 'node', { dataDir: path.join(dataRoot, 'y'), args: [...common, '--bootstrap', x.addr()] })
    stage = 'connect'
    await pollUntil('x ↔ y connected', () => (x.cli(['peers', '--state', 'connected']).json?.peers ?? []).some((p) => p.peerId === y.peerId) || undefined, 30_000)
    // Probes need a ping round to be set up; wait for the first echoes.
    await pollUntil('probe echoes', () => (metric(x, 'cpc_link_probes_total{result="echo_received"}') > 50 ? true : undefined), 30_000)

    for (const p of opts.drops ?? [0, 0.02, 0.05, 0.1]) {
      stage = `loss ${p}`
      lab.setLoss('y', { inbound: p })
      const t0 = Date.now()
      const sent0 = metric(x, 'cpc_link_probes_total{result="sent"}')
      // A whole window under the new setting, plus 10 % for the reports to travel back.
      const target = Math.ceil(LOSS_WINDOW * 1.1)
      const sent = await pollUntil(`${target} probes at drop ${p}`, () => {
        const n = metric(x, 'cpc_link_probes_total{result="sent"}') - sent0
        return n >= target ? n : undefined
      }, Math.max(60_000, target * interval * 4), 1_000)
      const reportedX = metric(x, 'cpc_link_loss_ratio{stat="max"}')
      const reportedY = metric(y, 'cpc_link_loss_ratio{stat="max"}')
      const ok = Math.abs(reportedX - p) <= LOSS_TOLERANCE && Math.abs(reportedY - p) <= LOSS_TOLERANCE
      res.loss.push({ configured: p, reportedX, reportedY, probes: sent, waitedMs: Date.now() - t0, ok })
    }
    lab.clearLoss('y')

    for (const [rate, bps] of opts.rates ?? [['10mbit', 10e6], ['50mbit', 50e6]] as Array<[string, number]>) {
      stage = `tbf ${rate}`
      lab.setRate('x', { rate, latency: tbfLatency })
      const ms = opts.bulkMs ?? 15_000
      const bulk = lab.spawnNode('x', path.join(FIXTURES, 'grpc-bulk.mjs'), [JSON.stringify({ addr: x.grpc, peer: y.peerId, size: opts.bulkBytes ?? 256 * 1024, concurrency: opts.bulkConcurrency ?? 8, ms, priority: 'HIGH' })], { label: 'bulk@x' })
      // Skip the first 3 s (tbf's bucket, TCP slow start, the router's first chunks), then measure
      // the receiver's counter until 1 s before the sender stops.
      const key = 'cpc_channel_bytes_total{direction="in"}'
      const keyOut = 'cpc_channel_bytes_total{direction="out"}'
      const tStart = Date.now()
      await new Promise((r) => setTimeout(r, 3_000))
      const a = { t: Date.now(), v: metric(y, key), o: metric(x, keyOut), q: tbfSent(lab) }
      await new Promise((r) => setTimeout(r, Math.max(2_000, ms - (Date.now() - tStart) - 1_000)))
      const b = { t: Date.now(), v: metric(y, key), o: metric(x, keyOut), q: tbfSent(lab) }
      const peer = (x.cli(['peers', '--state', 'connected']).json?.peers ?? []).find((q) => q.peerId === y.peerId)
      const done = await bulk.waitFor((l) => l.event === 'done', 30_000, 'bulk done')
      const measured = ((b.v - a.v) * 8 * 1000) / (b.t - a.t)
      // What tbf itself passed (bytes on the wire, headers included): the link was saturated if that
      // is within 10 % of the cap; otherwise the sender, not the cap, limited the flow.
      const wire = ((b.q - a.q) * 8 * 1000) / (b.t - a.t)
      const lm = peer?.link?.bytesOutPerSec
      res.rate.push({ rate, bitsPerSec: bps, measured, linkMonitorOut: lm != null ? lm * 8 : undefined, calls: Number(done.calls), errors: Number(done.errors), firstError: done.firstError as string | undefined, sent: ((b.o - a.o) * 8 * 1000) / (b.t - a.t), wire, saturated: wire >= 0.9 * bps, ok: Math.abs(measured / bps - 1) <= 0.1 })
      lab.clearRate('x')
    }
  } catch (err) {
    res.failure = `${stage}: ${(err as Error).message.slice(0, 500)}`
  } finally {
    await lab.destroy()
    fs.rmSync(dataRoot, { recursive: true, force: true })
  }
  return res
}
