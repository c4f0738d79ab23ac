// Scenario 2 (partial, before the node apps exist): random drop of P on a link, measured by the
// connection manager's LinkMonitor would need the node app; until then the lab measures the link
// itself with numbered UDP datagrams (the same Bernoulli sample LinkMonitor's probes take) and a
// tbf cap with bulk TCP. Tolerance: ±1.5 pp, and at least 3 binomial σ for short (quick) runs.
import { Lab } from '../topology.js'
import { tcpThroughput, udpLoss } from '../probes.js'

export interface LossRow {
  configured: number
  measured: number
  samples: number
  tolerance: number
  ok: boolean
}

export interface RateRow {
  rate: string
  bitsPerSec: number
  measured: number
  ok: boolean
}

export async function lossTruth(opts: { samples: number; drops?: number[] }): Promise<{ loss: LossRow[]; rate: RateRow[] }> {
  const lab = Lab.create({ segments: { wire: { subnet: '10.201.9.0/30', kind: 'p2p' } }, hosts: { x: { segment: 'wire' }, y: { segment: 'wire' } } })
  try {
    const loss: LossRow[] = []
    for (const p of opts.drops ?? [0, 0.02, 0.05, 0.1]) {
      lab.setLoss('y', { inbound: p })
      const r = await udpLoss(lab, 'x', 'y', opts.samples, p)
      const tolerance = Math.max(0.015, 3 * r.sigma)
      loss.push({ configured: p, measured: r.loss, samples: r.sent, tolerance, ok: Math.abs(r.loss - p) <= tolerance })
    }
    lab.clearLoss('y')
    const rate: RateRow[] = []
    for (const [rateStr, bps] of [['10mbit', 10e6], ['50mbit', 50e6]] as const) {
      lab.setRate('x', { rate: rateStr })
      const r = await tcpThroughput(lab, 'x', 'y', 3_000)
      rate.push({ rate: rateStr, bitsPerSec: bps, measured: r.bitsPerSec, ok: Math.abs(r.bitsPerSec / bps - 1) <= 0.1 })
    }
    return { loss, rate }
  } finally {
    await lab.destroy()
  }
}
