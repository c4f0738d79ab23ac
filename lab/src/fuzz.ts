// `npm run fuzz [-- --iterations N] [-- --minutes M]`: random and mutated frames into the
// `/cpc/1.0.0` handler of a live cpc-node on 127.0.0.1 (a separate process: apps/node/dist/main.js).
// The fuzzer is a libp2p node (TCP + Noise + yamux, like a peer) writing, on /cpc/1.0.0 streams:
//  - random bytes (0-2 KiB);
//  - valid frames (@cpc/protocol buildMessages + encodeFrame, signed by the fuzzer's key), mutated:
//    bit flips, byte insertion/deletion, truncation, splices of two frames, duplicated frames;
//  - oversized or malformed length prefixes (varints up to 2^63, 10-byte overlong varints);
//  - valid frames unmodified (so the decoder's happy path is interleaved with the junk).
// A stream aborted by the node (a frame error: what it should do) is replaced by a fresh one; a
// closed connection is redialled. Every `checkEvery` iterations: the node must answer a libp2p ping
// and a gRPC GetStatus. At the end: the node's RSS and heap (from its /metrics) at start vs end, its
// stderr scanned for unhandled rejections / uncaught exceptions / fatal logs, and it must still run
// and stop with exit 0 on SIGTERM. Bounded by iterations and by time.
import '@cpc/observability/node-compat'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { MessageSigner, MessageType, NonceGenerator, Priority, buildMessages, encodeFrame, nodeApi } from '@cpc/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import { createChannel, createClient } from 'nice-grpc'
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { APP_MAIN, parseMetrics } from './apps.js'

const PROTOCOL = '/cpc/1.0.0'

export interface FuzzOptions {
  iterations: number
  maxMs: number
  checkEvery?: number
  /** streams in flight (default 8) */
  concurrency?: number
  seed?: number
  log?: (s: string) => void
}

export interface FuzzResult {
  ok: boolean
  iterations: number
  elapsedMs: number
  byKind: Record<string, number>
  streams: number
  streamsAbortedByNode: number
  /** the node's cpc_channel_protocol_errors_total at the end (frames it rejected) */
  frameErrors: number
  /** the node's RSS and heap every 10 checks */
  samples: Array<{ iterations: number; rssMiB: number; heapMiB: number }>
  redials: number
  checks: number
  failedChecks: number
  rssStartMiB: number
  rssEndMiB: number
  heapStartMiB: number
  heapEndMiB: number
  nodeAlive: boolean
  exitCode: number | null
  crashes: number
  unhandled: string[]
  failure?: string
}

/** xorshift32: reproducible inputs from --seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 0x100000000
  }
}

function varint(n: bigint): Uint8Array {
  const out: number[] = []
  while (n > 127n) {
    out.push(Number(n & 127n) | 128)
    n >>= 7n
  }
  out.push(Number(n))
  return Uint8Array.from(out)
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

class Mutator {
  constructor(
    private readonly r: () => number,
    private readonly valid: () => Uint8Array,
  ) {}

  private int(n: number): number {
    return Math.floor(this.r() * n)
  }

  next(): [string, Uint8Array] {
    const k = this.int(10)
    if (k === 0) return ['random', crypto.randomBytes(this.int(2048))]
    if (k === 1) {
      // Length prefix far above maxFrameBytes, or overlong/unterminated varints, then a few bytes.
      const kind = this.int(3)
      const prefix = kind === 0 ? varint(BigInt(2 ** 20 + this.int(2 ** 30))) : kind === 1 ? varint(2n ** 63n - 1n) : Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
      return ['oversized-prefix', concat(prefix, crypto.randomBytes(this.int(64)))]
    }
    if (k === 2) return ['valid', this.valid()]
    const f = Uint8Array.from(this.valid())
    if (k <= 5) {
      for (let i = 0, n = 1 + this.int(8); i < n; i++) f[this.int(f.length)] ^= 1 << this.int(8)
      return ['bitflip', f]
    }
    if (k === 6) {
      const at = this.int(f.length)
      return ['insert', concat(f.subarray(0, at), crypto.randomBytes(1 + this.int(32)), f.subarray(at))]
    }
    if (k === 7) {
      const at = this.int(f.length)
      return ['delete', concat(f.subarray(0, at), f.subarray(Math.min(f.length, at + 1 + this.int(16))))]
    }
    if (k === 8) return ['truncate', f.subarray(0, this.int(f.length))]
    const g = this.valid()
    return ['splice', concat(f.subarray(0, this.int(f.length)), g.subarray(this.int(g.length)))]
  }
}

function startTarget(log: (s: string) => void): Promise<{ child: ReturnType<typeof spawn>; ready: Record<string, unknown>; stderr: () => string }> {
  const child = spawn(process.execPath, [APP_MAIN.node, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--log-level', 'warn', '--name', 'fuzz-target'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  let out = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    // Keep the whole (warn-level) log bounded: the head and a rolling tail.
    err = err.length < 4_000_000 ? err + d : err.slice(0, 1_000_000) + err.slice(-2_000_000) + d
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fuzz target: no ready line within 30 s')), 30_000)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const line = out.split('\n').find((l) => l.includes('"event":"ready"'))
      if (line != null) {
        clearTimeout(timer)
        const ready = JSON.parse(line) as Record<string, unknown>
        log(`target cpc-node pid ${child.pid} ${String(ready.peerId)} grpc ${String(ready.grpc)}`)
        resolve({ child, ready, stderr: () => err })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`fuzz target exited (${code}) before ready: ${err.slice(-1000)}`))
    })
  })
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return parseMetrics(await res.text())
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const log = opts.log ?? (() => {})
  const checkEvery = opts.checkEvery ?? 1_000
  const res: FuzzResult = { ok: false, iterations: 0, elapsedMs: 0, byKind: {}, streams: 0, streamsAbortedByNode: 0, frameErrors: 0, samples: [], redials: 0, checks: 0, failedChecks: 0, rssStartMiB: 0, rssEndMiB: 0, heapStartMiB: 0, heapEndMiB: 0, nodeAlive: false, exitCode: null, crashes: 0, unhandled: [] }
  const target = await startTarget(log)
  let exited = false
  target.child.once('exit', () => {
    exited = true
  })
  const metricsUrl = target.ready.metrics as string
  const channel = createChannel(target.ready.grpc as string)
  const grpc = createClient(nodeApi.NodeServiceDefinition, channel)
  const key = await generateKeyPair('Ed25519')
  const node: Libp2p<{ ping: Ping }> = await createLibp2p({
    privateKey: key,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping({ maxOutboundStreams: 4 }) },
  })
  const targetAddr = multiaddr((target.ready.listen as string[])[0]!)
  const signer = new MessageSigner(key)
  const nonces = new NonceGenerator()
  const r = rng(opts.seed ?? Date.now())
  const valid = (): Uint8Array => {
    const size = [0, 16, 200, 1500, 9000][Math.floor(r() * 5)]!
    const [msg] = buildMessages({ type: [MessageType.EVENT, MessageType.DISCOVERY, MessageType.CONTROL][Math.floor(r() * 3)]!, priority: [Priority.LOW, Priority.MEDIUM, Priority.HIGH][Math.floor(r() * 3)]!, payload: crypto.randomBytes(size) }, signer, nonces)
    return encodeFrame(msg!)
  }
  const mut = new Mutator(r, valid)
  const t0 = Date.now()
  const check = async (): Promise<void> => {
    res.checks++
    try {
      await node.services.ping.ping(targetAddr, { signal: AbortSignal.timeout(5_000) })
      await grpc.getStatus({}, { signal: AbortSignal.timeout(5_000) })
    } catch (err) {
      res.failedChecks++
      log(`check ${res.checks} failed: ${(err as Error).message}`)
    }
  }
  try {
    await check()
    const m0 = await scrape(metricsUrl)
    res.rssStartMiB = (m0.get('cpc_process_resident_memory_bytes') ?? 0) / 2 ** 20
    res.heapStartMiB = (m0.get('cpc_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20
    // Each stream carries 0-3 valid frames and then one fuzz input, then closes: after a frame error
    // the node aborts the stream and would never read what followed, so one input per stream makes
    // every input reach the decoder. `concurrency` streams in flight.
    let nextCheck = checkEvery
    let consecutiveDialErrors = 0
    let claimed = 0
    const one = async (): Promise<void> => {
      let stream: Stream
      try {
        stream = await node.dialProtocol(targetAddr, PROTOCOL, { signal: AbortSignal.timeout(5_000) })
        consecutiveDialErrors = 0
        res.streams++
      } catch (err) {
        res.redials++
        claimed--
        if (++consecutiveDialErrors > 200) throw new Error(`cannot open streams any more: ${(err as Error).message}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
        return
      }
      const [kind, bytes] = mut.next()
      res.byKind[kind] = (res.byKind[kind] ?? 0) + 1
      res.iterations++
      const prefix = Array.from({ length: Math.floor(r() * 4) }, valid)
      try {
        for (const b of [...prefix, bytes]) {
          if (!stream.send(b)) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2_000)
              const done = (): void => {
                clearTimeout(t)
                resolve()
              }
              stream.addEventListener('drain', done, { once: true })
              stream.addEventListener('close', done, { once: true })
            })
          }
        }
        await stream.close({ signal: AbortSignal.timeout(2_000) })
      } catch {
        res.streamsAbortedByNode++
        stream.abort(new Error('fuzz: done'))
      }
    }
    const deadline = t0 + opts.maxMs
    const worker = async (): Promise<void> => {
      while (claimed < opts.iterations && Date.now() < deadline && !exited) {
        claimed++
        await one()
        if (res.iterations >= nextCheck) {
          nextCheck += checkEvery
          await check()
          if (res.checks % 10 === 0) {
            const m = await scrape(metricsUrl).catch(() => new Map<string, number>())
            res.samples.push({ iterations: res.iterations, rssMiB: (m.get('cpc_process_resident_memory_bytes') ?? 0) / 2 ** 20, heapMiB: (m.get('cpc_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20 })
          }
          if (res.checks % 50 === 0) log(`${res.iterations} iterations, ${((Date.now() - t0) / 1000).toFixed(0)} s, ${res.failedChecks} failed checks`)
        }
      }
    }
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker))
    // Let the node finish what it has buffered before the last check and reading (bounded poll).
    let last = -1
    for (let i = 0; i < 20; i++) {
      const v = (await scrape(metricsUrl)).get('cpc_channel_bytes_total{direction="in"}') ?? 0
      if (v === last) break
      last = v
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const m = await scrape(metricsUrl)
    res.frameErrors = [...m.entries()].filter(([k]) => k.startsWith('cpc_channel_protocol_errors_total')).reduce((n, [, v]) => n + v, 0)
    await check()
    res.elapsedMs = Date.now() - t0
    const m1 = await scrape(metricsUrl)
    res.rssEndMiB = (m1.get('cpc_process_resident_memory_bytes') ?? 0) / 2 ** 20
    res.heapEndMiB = (m1.get('cpc_nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20
  } catch (err) {
    res.failure = (err as Error).message
  } finally {
    await Promise.resolve(node.stop()).catch(() => {})
    channel.close()
    res.nodeAlive = !exited
    if (!exited) {
      target.child.kill('SIGTERM')
      const killer = setTimeout(() => target.child.kill('SIGKILL'), 10_000)
      res.exitCode = await new Promise<number | null>((resolve) => {
        if (target.child.exitCode != null) resolve(target.child.exitCode)
        else target.child.once('exit', (code) => resolve(code))
      })
      clearTimeout(killer)
    } else {
      res.exitCode = target.child.exitCode
      res.crashes = 1
    }
  }
  const stderr = target.stderr()
  res.unhandled = stderr.split('\n').filter((l) => /unhandled|uncaught|"level":60|FATAL/i.test(l)).slice(0, 10).map((l) => l.slice(0, 300))
  res.ok = res.failure == null && res.crashes === 0 && res.failedChecks === 0 && res.unhandled.length === 0 && res.exitCode === 0
  return res
}
