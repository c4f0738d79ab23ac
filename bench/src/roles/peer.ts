// Role "peer": one bare libp2p node and one raw TCP server in a process of its own. The runner starts
// two of these and has one send to the other: bulk bytes (P1), batched length-prefixed messages (P2),
// ping-pong and a FIFO flood with HIGH probes (P3).
import '@cpc/observability/node-compat'
import crypto from 'node:crypto'
import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, Stream } from '@libp2p/interface'
import { createBareNode, send, toBytes } from './bare-node.js'
import { Decoder, concat, frame, percentile, wallMs } from './framing.js'
import { memory, onExit, serve } from './serve.js'

const BULK = '/bench/bulk/1.0.0'
const LP = '/bench/lp/1.0.0'
const FIFO = '/bench/fifo/1.0.0'

let node: Libp2p | undefined
let server: net.Server | undefined
const chunk64k = crypto.randomBytes(64 * 1024)

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n))
  return b
}

/** Counts bytes after an 8-byte length header; calls `done` once all arrived. */
function byteCounter(done: () => void): (chunk: Uint8Array) => void {
  let header: Uint8Array = new Uint8Array(0)
  let expected = -1
  let got = 0
  return (chunk) => {
    if (expected < 0) {
      const merged = concat([header, chunk])
      if (merged.byteLength < 8) {
        header = merged
        return
      }
      expected = Number(new DataView(merged.buffer, merged.byteOffset).getBigUint64(0))
      got = merged.byteLength - 8
    } else got += chunk.byteLength
    if (got >= expected && expected >= 0) {
      expected = Number.POSITIVE_INFINITY
      done()
    }
  }
}

async function startNode(): Promise<{ peerId: string; addrs: string[] }> {
  node = await createBareNode()
  await node.handle(
    BULK,
    async (stream: Stream) => {
      const count = byteCounter(() => void send(stream, new Uint8Array([1])).then(() => stream.close()))
      for await (const c of stream) count(toBytes(c))
    },
    { runOnLimitedConnection: true },
  )
  await node.handle(
    LP,
    async (stream: Stream) => {
      const dec = new Decoder()
      let expected = -1
      let got = 0
      let sum = 0
      for await (const c of stream) {
        dec.push(toBytes(c), (body) => {
          if (expected < 0) expected = Number(new DataView(body.buffer, body.byteOffset).getBigUint64(0))
          else {
            got++
            sum += body[0]
            if (got === expected) void send(stream, new Uint8Array([sum & 0xff])).then(() => stream.close())
          }
        })
      }
    },
    { runOnLimitedConnection: true },
  )
  await node.handle(
    FIFO,
    async (stream: Stream) => {
      // Echoes HIGH frames (first byte 1) at once on the idle reverse direction; LOW frames are counted.
      const dec = new Decoder()
      for await (const c of stream) {
        dec.push(toBytes(c), (body) => {
          if (body[0] === 1) void send(stream, frame(body.slice()))
        })
      }
    },
    { runOnLimitedConnection: true },
  )
  return { peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) }
}

async function tcpListen(): Promise<{ port: number }> {
  server = net.createServer((socket) => {
    const count = byteCounter(() => socket.end(new Uint8Array([1])))
    socket.on('data', (d) => count(d))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as net.AddressInfo).port }
}

/** Raw TCP, 64 KiB writes honoring write()'s return value and 'drain'. */
async function tcpSend(args: { port: number; bytes: number }): Promise<{ ms: number }> {
  const socket = net.connect(args.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const acked = new Promise<void>((resolve, reject) => socket.once('data', () => resolve()).once('error', reject))
  const start = performance.now()
  socket.write(u64(args.bytes))
  for (let sent = 0; sent < args.bytes; sent += chunk64k.byteLength) {
    const c = args.bytes - sent < chunk64k.byteLength ? chunk64k.subarray(0, args.bytes - sent) : chunk64k
    if (!socket.write(c)) await new Promise((resolve) => socket.once('drain', resolve))
  }
  await acked
  const ms = performance.now() - start
  socket.destroy()
  return { ms }
}

async function open(addr: string, protocol: string): Promise<Stream> {
  if (!node) throw new Error('node not started')
  const ma = multiaddr(addr)
  await node.dial(ma)
  return node.dialProtocol(ma, protocol, { runOnLimitedConnection: true })
}

/** Resolves on the first bytes the remote sends back (the reader is attached at once). */
function firstReply(stream: Stream): Promise<Uint8Array> {
  return (async () => {
    for await (const c of stream) return toBytes(c)
    throw new Error('stream ended without a reply')
  })()
}

/** Bare libp2p stream: `bytes` in 64 KiB sends with 'drain' backpressure, until the receiver acks. */
async function bulkSend(args: { addr: string; bytes: number }): Promise<{ ms: number }> {
  const stream = await open(args.addr, BULK)
  const acked = firstReply(stream)
  const start = performance.now()
  await send(stream, u64(args.bytes))
  for (let sent = 0; sent < args.bytes; sent += chunk64k.byteLength) {
    const c = args.bytes - sent < chunk64k.byteLength ? chunk64k.subarray(0, args.bytes - sent) : chunk64k
    await send(stream, c)
  }
  await acked
  const ms = performance.now() - start
  await stream.close().catch(() => {})
  return { ms }
}

/** Bare libp2p length-prefixed messages of `size` bytes, `batch` per send, until the receiver acks. */
async function lpSend(args: { addr: string; count: number; size: number; batch: number }): Promise<{ ms: number }> {
  const stream = await open(args.addr, LP)
  const acked = firstReply(stream)
  const body = crypto.randomBytes(args.size)
  const one = frame(body)
  const start = performance.now()
  await send(stream, frame(u64(args.count)))
  for (let sent = 0; sent < args.count; sent += args.batch) {
    const n = Math.min(args.batch, args.count - sent)
    await send(stream, concat(Array.from({ length: n }, () => one)))
  }
  await acked
  const ms = performance.now() - start
  await stream.close().catch(() => {})
  return { ms }
}

interface FifoArgs {
  addr: string
  /** HIGH probes to time. */
  probes: number
  /** Gap between probes. */
  probeIntervalMs: number
  /** LOW flood: the FIFO is kept this full (0 = idle link). */
  queueBytes: number
  lowSize: number
}

/**
 * HIGH latency through a plain FIFO queue: LOW frames keep the queue at `queueBytes` while HIGH probes
 * (256 B) join the back of the same queue; the receiver echoes each HIGH at once. The writer takes up
 * to 64 KiB / 64 frames per send, like the router's PeerWriter, and waits for 'drain'. With
 * `queueBytes` 0 this is the idle-link ping-pong over the same code.
 */
async function fifo(args: FifoArgs): Promise<{ rttMs: number[]; p50: number; p99: number; lowMBps: number }> {
  const stream = await open(args.addr, FIFO)
  const queue: Uint8Array[] = []
  let queued = 0
  let lowBytes = 0
  let wake: (() => void) | undefined
  let running = true
  const sentAt = new Map<number, number>()
  const rtts: number[] = []
  let allDone!: () => void
  const finished = new Promise<void>((resolve) => (allDone = resolve))
  const low = frame(concat([new Uint8Array([0]), crypto.randomBytes(args.lowSize - 1)]))
  const topUp = () => {
    while (args.queueBytes > 0 && queued + low.byteLength <= args.queueBytes) {
      queue.push(low)
      queued += low.byteLength
    }
  }
  const reader = (async () => {
    const dec = new Decoder()
    for await (const c of stream) {
      dec.push(toBytes(c), (body) => {
        const seq = new DataView(body.buffer, body.byteOffset).getUint32(1)
        const t = sentAt.get(seq)
        if (t !== undefined) rtts.push(wallMs() - t)
        if (rtts.length >= args.probes) allDone()
      })
    }
  })()
  const writer = (async () => {
    while (running) {
      topUp()
      if (!queue.length) {
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
        continue
      }
      const batch: Uint8Array[] = []
      let bytes = 0
      while (queue.length && batch.length < 64 && (bytes === 0 || bytes + queue[0].byteLength <= 64 * 1024)) {
        const f = queue.shift()!
        batch.push(f)
        bytes += f.byteLength
        queued -= f.byteLength
        if (f[4] === 0) lowBytes += f.byteLength
      }
      await send(stream, batch.length === 1 ? batch[0] : concat(batch))
    }
  })()
  const floodStart = performance.now()
  // Let the flood fill the link before the first probe.
  if (args.queueBytes > 0) await new Promise((r) => setTimeout(r, 300))
  const lowAtStart = lowBytes
  const probeStart = performance.now()
  for (let seq = 0; seq < args.probes; seq++) {
    const body = new Uint8Array(256)
    body[0] = 1
    new DataView(body.buffer).setUint32(1, seq)
    sentAt.set(seq, wallMs())
    const f = frame(body)
    queue.push(f)
    queued += f.byteLength
    wake?.()
    await new Promise((r) => setTimeout(r, args.probeIntervalMs))
  }
  await finished
  const lowMBps = (lowBytes - lowAtStart) / 1e6 / ((performance.now() - probeStart) / 1000)
  running = false
  wake?.()
  stream.abort(new Error('done'))
  await Promise.allSettled([reader, writer])
  void floodStart
  return { rttMs: rtts, p50: percentile(rtts, 50), p99: percentile(rtts, 99), lowMBps }
}

onExit(async () => {
  server?.close()
  await node?.stop()
})

serve({
  start: () => startNode(),
  'tcp-listen': () => tcpListen(),
  'tcp-send': (a) => tcpSend(a as never),
  'bulk-send': (a) => bulkSend(a as never),
  'lp-send': (a) => lpSend(a as never),
  fifo: (a) => fifo(a as never),
  memory: () => memory(),
})
