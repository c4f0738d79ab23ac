// `npm run soak -- --minutes 30 [--nodes 20] [--churn-sec 30] [--rate 10]`: a churning devnet of real
// processes on 127.0.0.1 (one cpc-bootstrap, N cpc-nodes with data dirs), under gRPC traffic (sends
// between random live pairs at every priority, and a broadcast every 10th operation); every
// `churnSec` one random node leaves (SIGTERM) and, `churnSec / 2` later, comes back from its data dir
// (same identity), so peers disconnect, reconnect and flush outboxes all the time. Every 30 s each
// live process's heap and RSS are read from its /metrics. At the end: per process the heap growth
// per hour (least-squares slope over its samples after a warm-up), the median and worst, and a leak
// verdict for the long-lived processes. Bounded by --minutes, stops every child on every exit path.
import '@cpc/observability/node-compat'
import { Priority, common, nodeApi } from '@cpc/protocol'
import { createChannel, createClient } from 'nice-grpc'
import type { Client } from 'nice-grpc'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { APP_MAIN, parseMetrics } from './apps.js'

export interface SoakOptions {
  minutes: number
  nodes?: number
  churnSec?: number
  /** operations per second, all nodes together */
  rate?: number
  sampleSec?: number
  log?: (s: string) => void
}

export interface ProcSeries {
  name: string
  restarts: number
  samples: Array<{ tMs: number; heapMiB: number; rssMiB: number }>
  /** least-squares heap slope after warm-up, MiB/h (undefined with < 4 samples) */
  heapMiBPerHour?: number
  rssMiBPerHour?: number
}

export interface SoakResult {
  ok: boolean
  minutes: number
  nodes: number
  churnEvents: number
  ops: { sent: number; broadcasts: number; failed: number; shed: number }
  series: ProcSeries[]
  medianHeapMiBPerHour: number
  worstHeapMiBPerHour: number
  worst?: string
  leak: boolean
  verdict: string
  failure?: string
}

/** Heap growth above this (MiB/h) on a process that lived the whole run counts as a leak. */
export const LEAK_MIB_PER_HOUR = 50
const WARMUP_MS = 60_000

type NodeClient = Client<typeof nodeApi.NodeServiceDefinition>

interface Proc {
  name: string
  kind: 'bootstrap' | 'node'
  dataDir: string
  child?: ChildProcess
  ready?: { peerId: string; grpc: string; metrics: string; listen: string[] }
  client?: NodeClient
  close?: () => void
  series: ProcSeries
  startedAt: number
}

function slope(points: Array<{ x: number; y: number }>): number | undefined {
  if (points.length < 4) return undefined
  const n = points.length
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  if (sxx === 0) return undefined
  return points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx
}

export async function soak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => {})
  const nNodes = opts.nodes ?? 20
  const churnMs = (opts.churnSec ?? 30) * 1_000
  const rate = opts.rate ?? 10
  const sampleMs = (opts.sampleSec ?? 30) * 1_000
  const endAt = Date.now() + opts.minutes * 60_000
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cpc-soak-'))
  const procs: Proc[] = []
  const res: SoakResult = { ok: false, minutes: opts.minutes, nodes: nNodes, churnEvents: 0, ops: { sent: 0, broadcasts: 0, failed: 0, shed: 0 }, series: [], medianHeapMiBPerHour: 0, worstHeapMiBPerHour: 0, leak: false, verdict: '' }
  const killAll = (): void => {
    for (const p of procs) if (p.child != null && p.child.exitCode == null) p.child.kill('SIGKILL')
  }
  process.once('exit', killAll)
  const onSignal = (): void => {
    killAll()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const start = async (p: Proc, args: string[]): Promise<void> => {
    const main = p.kind === 'bootstrap' ? APP_MAIN.bootstrap : APP_MAIN.node
    const argv = [main, ...(p.kind === 'node' ? ['start'] : []), '--data-dir', p.dataDir, '--name', p.name, '--listen', '/ip4/127.0.0.1/tcp/0', '--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--address-scope', 'private', '--log-level', 'error', ...args]
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    p.child = child
    child.stderr!.resume()
    let buf = ''
    p.ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${p.name}: no ready line within 60 s`)), 60_000)
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        buf += d
        const line = buf.split('\n').find((l) => l.includes('"event":"ready"'))
        if (line != null && p.ready == null) {
          clearTimeout(timer)
          resolve(JSON.parse(line) as Proc['ready'])
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${p.name} exited (${code}) before ready`))
      })
    })
    const channel = createChannel(p.ready!.grpc)
    p.client = createClient(nodeApi.NodeServiceDefinition, channel)
    p.close = () => channel.close()
    p.startedAt = Date.now()
  }
  const stop = async (p: Proc): Promise<void> => {
    p.close?.()
    p.client = undefined
    const child = p.child
    p.ready = undefined
    // exitCode stays null when a signal ended the child (signalCode is set): waiting for its 'exit'
    // then hung forever, and with every timer cleared the run ended as Node's exit 13 (unsettled
    // top-level await) without its report (2026-11-24 04:15, a restart that died by signal).
    if (child == null || child.exitCode != null || child.signalCode != null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await new Promise((resolve) => child.once('exit', resolve))
    clearTimeout(killer)
  }
  const sample = async (p: Proc, t0: number): Promise<void> => {
    if (p.ready == null) return
    try {
      const text = await (await fetch(p.ready.metrics, { signal: AbortSignal.timeout(5_000) })).text()
      const m = parseMetrics(text)
      p.series.samples.push({ tMs: Date.now() - t0, heapMiB: (m.get('cpc_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20, rssMiB: (m.get('cpc_process_resident_memory_bytes') ?? 0) / 2 ** 20 })
    } catch {
      // a node leaving right now
    }
  }

  const t0 = Date.now()
  const timers: NodeJS.Timeout[] = []
  try {
    const boot: Proc = { name: 'boot', kind: 'bootstrap', dataDir: path.join(root, 'boot'), series: { name: 'boot', restarts: 0, samples: [] }, startedAt: 0 }
    procs.push(boot)
    await start(boot, [])
    const bootAddr = boot.ready!.listen[0]!
    const nodeArgs = ['--bootstrap', bootAddr, '--dht-mode', 'server', '--group', 'soak', '--set', 'network.connections.dialTimeoutMs=3000']
    for (let i = 0; i < nNodes; i++) procs.push({ name: `n${i}`, kind: 'node', dataDir: path.join(root, `n${i}`), series: { name: `n${i}`, restarts: 0, samples: [] }, startedAt: 0 })
    const nodes = procs.filter((p) => p.kind === 'node')
    for (let i = 0; i < nodes.length; i += 4) await Promise.all(nodes.slice(i, i + 4).map((p) => start(p, nodeArgs)))
    log(`devnet up: 1 bootstrap + ${nNodes} nodes in ${((Date.now() - t0) / 1000).toFixed(0)} s; churn every ${churnMs / 1000} s, ${rate} ops/s, until ${new Date(endAt).toISOString()}`)

    const nodePeerIds = new Map(nodes.map((p) => [p.name, p.ready!.peerId]))
    // Traffic: at most 8 calls in flight.
    let inFlight = 0
    let n = 0
    const live = (): Proc[] => nodes.filter((p) => p.client != null)
    timers.push(setInterval(() => {
      if (inFlight >= 8) return
      const l = live()
      if (l.length < 2) return
      const from = l[Math.floor(Math.random() * l.length)]!
      // Any node may be the target, up or not: a send to a node that is away is queued in the outbox.
      const to = nodes[Math.floor(Math.random() * nodes.length)]!
      if (to === from) return
      const priority = [Priority.LOW, Priority.MEDIUM, Priority.HIGH][n % 3]!
      const payload = crypto.randomBytes(n % 20 === 0 ? 64 * 1024 : 256)
      const op = n++ % 10 === 9
        ? from.client!.broadcast({ payload, priority, scope: { kind: common.BroadcastScope_Kind.KIND_GROUP, group: 'soak' } }, { signal: AbortSignal.timeout(10_000) }).then(() => void res.ops.broadcasts++)
        : from.client!.sendMessage({ peerId: nodePeerIds.get(to.name)!, payload, priority, ttlMs: 120_000 }, { signal: AbortSignal.timeout(10_000) }).then(() => void res.ops.sent++)
      inFlight++
      op.catch((err: Error) => {
        if (/RESOURCE_EXHAUSTED/.test(err.message)) res.ops.shed++
        else res.ops.failed++
      }).finally(() => inFlight--)
    }, Math.max(10, Math.floor(1_000 / rate))))
    // Churn: one node leaves, comes back half a period later from its data dir. A node whose restart
    // failed (no ready line in time on a loaded machine) is retried at the next tick instead.
    const busy = new Set<Proc>()
    const restart = (p: Proc): void => {
      busy.add(p)
      p.series.restarts++
      start(p, nodeArgs)
        .catch(async (err: Error) => {
          log(`restart of ${p.name}: ${err.message}`)
          await stop(p)
        })
        .finally(() => busy.delete(p))
    }
    timers.push(setInterval(() => {
      if (Date.now() >= endAt) return
      const down = nodes.find((p) => p.client == null && !busy.has(p))
      if (down != null) {
        restart(down)
        return
      }
      const l = live().filter((p) => !busy.has(p))
      if (l.length <= 2) return
      const victim = l[Math.floor(Math.random() * l.length)]!
      res.churnEvents++
      busy.add(victim)
      void stop(victim)
        .then(() => new Promise((resolve) => setTimeout(resolve, churnMs / 2)))
        .then(() => {
          busy.delete(victim)
          if (Date.now() < endAt) restart(victim)
        })
    }, churnMs))

    timers.push(setInterval(() => {
      for (const p of procs) void sample(p, t0)
      const l = live()
      log(`${((Date.now() - t0) / 60_000).toFixed(1)} min: ${l.length}/${nNodes} nodes up, sent ${res.ops.sent}, broadcasts ${res.ops.broadcasts}, shed ${res.ops.shed}, failed ${res.ops.failed}, churn ${res.churnEvents}`)
    }, sampleMs))
    for (const p of procs) await sample(p, t0)

    while (Date.now() < endAt) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, endAt - Date.now())))
  } catch (err) {
    res.failure = (err as Error).message
  } finally {
    for (const t of timers) clearInterval(t)
    await Promise.all(procs.map((p) => stop(p).catch(() => {})))
    killAll()
    fs.rmSync(root, { recursive: true, force: true })
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }

  for (const p of procs) {
    const pts = p.series.samples.filter((s) => s.tMs >= WARMUP_MS)
    const h = slope(pts.map((s) => ({ x: s.tMs / 3_600_000, y: s.heapMiB })))
    const r = slope(pts.map((s) => ({ x: s.tMs / 3_600_000, y: s.rssMiB })))
    p.series.heapMiBPerHour = h
    p.series.rssMiBPerHour = r
    res.series.push(p.series)
  }
  // Long-lived: never churned (the bootstrap and any node the dice spared) — a restarted process's
  // samples mix two heaps.
  const steady = res.series.filter((s) => s.restarts === 0 && s.heapMiBPerHour != null)
  const slopes = steady.map((s) => s.heapMiBPerHour!).sort((a, b) => a - b)
  res.medianHeapMiBPerHour = slopes.length > 0 ? slopes[Math.floor(slopes.length / 2)]! : 0
  res.worstHeapMiBPerHour = slopes.length > 0 ? slopes[slopes.length - 1]! : 0
  res.worst = steady.find((s) => s.heapMiBPerHour === res.worstHeapMiBPerHour)?.name
  res.leak = res.medianHeapMiBPerHour > LEAK_MIB_PER_HOUR
  res.verdict = steady.length === 0
    ? 'not enough samples for a verdict (run longer)'
    : res.leak
      ? `leak suspected: median heap growth ${res.medianHeapMiBPerHour.toFixed(1)} MiB/h over ${steady.length} never-restarted processes (threshold ${LEAK_MIB_PER_HOUR})`
      : `no leak: median heap growth ${res.medianHeapMiBPerHour.toFixed(1)} MiB/h over ${steady.length} never-restarted processes (threshold ${LEAK_MIB_PER_HOUR} MiB/h)`
  res.ok = res.failure == null && !res.leak && steady.length > 0
  return res
}
