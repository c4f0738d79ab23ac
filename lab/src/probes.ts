// Measurements between lab nodes with the tiny tools of fixtures/net-tools.mjs.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Lab } from './topology.js'

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures')
const TOOLS = path.join(FIXTURES, 'net-tools.mjs')

export interface EchoResult {
  ok: boolean
  error?: string
  /** the source address the server saw (the NAT's WAN address when NATed) */
  seenFrom?: string
}

/** A TCP echo from `from` to `to`:port; bounded by timeoutMs. */
export async function tcpEcho(lab: Lab, from: string, to: string, opts: { port?: number; timeoutMs?: number; toIp?: string } = {}): Promise<EchoResult> {
  const port = opts.port ?? 7000
  const server = lab.spawnNode(to, TOOLS, ['tcp-echo-server', String(port), '30000'], { label: `echo-server@${to}` })
  try {
    await server.waitFor((l) => l.event === 'listening', 5_000, 'listening')
    const client = lab.spawnNode(from, TOOLS, ['tcp-echo-client', opts.toIp ?? lab.node(to).ip, String(port), String(opts.timeoutMs ?? 2_000)], { label: `echo-client@${from}` })
    const r = await client.waitFor((l) => l.event === 'result', (opts.timeoutMs ?? 2_000) + 5_000, 'echo result')
    const conn = server.find((l) => l.event === 'conn')
    return { ok: r.ok === true, error: r.error as string | undefined, seenFrom: conn?.remote as string | undefined }
  } finally {
    await server.stop()
  }
}

/** Whether a TCP handshake from `from` to ip:port completes within timeoutMs (no server started). */
export async function tcpConnect(lab: Lab, from: string, ip: string, port: number, timeoutMs = 1_000): Promise<EchoResult> {
  const client = lab.spawnNode(from, TOOLS, ['tcp-connect', ip, String(port), String(timeoutMs)], { label: `tcp-connect@${from}` })
  const r = await client.waitFor((l) => l.event === 'result', timeoutMs + 5_000, 'connect result')
  return { ok: r.ok === true, error: r.error as string | undefined }
}

export interface UdpLossResult {
  sent: number
  received: number
  loss: number
  /** binomial standard deviation of the loss estimate at the configured probability */
  sigma: number
}

/** Sends `count` numbered UDP datagrams from `from` to `to` and counts what arrived. */
export async function udpLoss(lab: Lab, from: string, to: string, count: number, expectedP: number, port = 7100): Promise<UdpLossResult> {
  const sink = lab.spawnNode(to, TOOLS, ['udp-sink', String(port), '60000'], { label: `udp-sink@${to}` })
  try {
    await sink.waitFor((l) => l.event === 'listening', 5_000, 'listening')
    const sender = lab.spawnNode(from, TOOLS, ['udp-send', lab.node(to).ip, String(port), String(count)], { label: `udp-send@${from}` })
    await sender.waitFor((l) => l.event === 'sent', 60_000, 'sent')
    sink.send({ cmd: 'report' })
    const r = await sink.waitFor((l) => l.event === 'report', 5_000, 'report')
    const received = Number(r.received)
    return { sent: count, received, loss: 1 - received / count, sigma: Math.sqrt((expectedP * (1 - expectedP)) / count) }
  } finally {
    await sink.stop()
  }
}

export interface ThroughputResult {
  bytes: number
  /** goodput after the first 500 ms (the tbf bucket's initial burst excluded) */
  bitsPerSec: number
}

/** Bulk TCP from `from` to `to` for `ms`; the receiver measures. */
export async function tcpThroughput(lab: Lab, from: string, to: string, ms: number, port = 7200): Promise<ThroughputResult> {
  const sink = lab.spawnNode(to, TOOLS, ['tcp-sink', String(port), '500'], { label: `tcp-sink@${to}` })
  try {
    await sink.waitFor((l) => l.event === 'listening', 5_000, 'listening')
    const sender = lab.spawnNode(from, TOOLS, ['tcp-send', lab.node(to).ip, String(port), String(ms)], { label: `tcp-send@${from}` })
    const r = await sink.waitFor((l) => l.event === 'received', ms + 30_000, 'received')
    await sender.exited
    return { bytes: Number(r.bytes), bitsPerSec: Number(r.steadyBitsPerSec) }
  } finally {
    await sink.stop()
  }
}
