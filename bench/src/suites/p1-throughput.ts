// P1: one-way bulk throughput between two processes on 127.0.0.1, MB/s. Raw TCP and a bare libp2p
// stream (tcp+noise+yamux) move the same bytes in 64 KiB writes, alternating round by round so
// background load hits both alike; cpc-net's row (NetworkHandler.sendMessage of one incompressible,
// chunked, signed EVENT) joins them once @cpc/network exists.
import { errorRow, guard, median, missing, versus, type BenchOptions, type Row } from '../harness.js'
import { startPair } from './pair.js'
import { cpcPath, ours } from './ours.js'

export async function p1(opts: BenchOptions): Promise<Row[]> {
  const bytes = (opts.quick ? 4 : 64) * 2 ** 20
  const rounds = opts.quick ? 1 : 3
  const pair = await startPair('p1', opts)
  const tcp: number[] = []
  const lib: number[] = []
  try {
    // One warm-up transfer each, untimed: JIT, TCP slow start, yamux window growth.
    await pair.sender.call('tcp-send', { port: pair.port, bytes: Math.min(bytes, 8 * 2 ** 20) }, 120_000)
    await pair.sender.call('bulk-send', { addr: pair.addr, bytes: Math.min(bytes, 8 * 2 ** 20) }, 120_000)
    for (let r = 0; r < rounds; r++) {
      const t = await pair.sender.call<{ ms: number }>('tcp-send', { port: pair.port, bytes }, 120_000)
      tcp.push(bytes / 1e6 / (t.ms / 1000))
      const l = await pair.sender.call<{ ms: number }>('bulk-send', { addr: pair.addr, bytes }, 120_000)
      lib.push(bytes / 1e6 / (l.ms / 1000))
    }
  } finally {
    await pair.close()
  }
  const mib = bytes / 2 ** 20
  const tcpRate = median(tcp)
  const libRate = median(lib)
  const note = `${mib} MiB one way, sender and receiver in separate processes, median of ${rounds} alternating round(s)`
  const rows: Row[] = [
    { id: 'P1.tcp', what: `raw Node TCP, ${mib} MiB in 64 KiB writes`, value: tcpRate, unit: 'MB/s', note },
    versus('P1.libp2p', `bare libp2p stream (tcp+noise+yamux), ${mib} MiB in 64 KiB sends`, libRate, 'MB/s', {
      what: 'raw TCP',
      value: tcpRate,
    }),
  ]
  const cpc = await guard(ours.p1?.({ ...opts, bytes, rounds }))
  const baseline = { what: 'bare libp2p', value: libRate }
  const api = (await cpcPath()) === 'NetworkHandler' ? 'NetworkHandler.sendMessage' : 'Router.send (Router stack)'
  const what = `cpc-net ${api}, ${mib} MiB EVENT (chunked, signed, incompressible)`
  rows.push(
    cpc instanceof Error
      ? errorRow('P1', what, cpc)
      : cpc === undefined
        ? missing('P1', what, 'pending', { unit: 'MB/s', baseline, target: '>= 0.85x', note: 'needs NetworkHandler (@cpc/network)' })
        : versus('P1', what, cpc, 'MB/s', baseline, 0.85),
  )
  return rows
}
