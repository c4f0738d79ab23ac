// Real cpc-relay and cpc-node processes on 127.0.0.1: two nodes exchange messages over gRPC-driven
// sends while /metrics is scraped, so latency, loss and throughput series must exist and move; one
// node holds a reservation on the relay, whose reservation gauge must read 1. SIGTERM stops each
// with exit 0.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Priority, nodeApi } from '@cpc/protocol'
import { createChannel, createClient, type Channel } from 'nice-grpc'
import { AppProcess, binary, eventually, sample, scrape, type ReadyLine } from './helpers/app-process.js'

const common = ['--grpc', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--address-scope', 'private', '--log-level', 'warn']

describe('cpc-node and cpc-relay processes under traffic', () => {
  const procs: AppProcess[] = []
  const channels: Channel[] = []
  let dir: string
  let relay: ReadyLine
  let a: ReadyLine
  let b: ReadyLine

  beforeAll(async () => {
    const nodeBin = binary('node')
    const relayBin = binary('relay')
    dir = await mkdtemp(path.join(tmpdir(), 'cpc-apps-'))
    const r = new AppProcess(relayBin, ['--data-dir', path.join(dir, 'relay'), ...common])
    procs.push(r)
    relay = await r.ready()
    const pa = new AppProcess(nodeBin, ['start', '--data-dir', path.join(dir, 'a'), '--name', 'a', ...common])
    procs.push(pa)
    a = await pa.ready()
    // B finds A through bootstrap and holds a reservation on the relay.
    const pb = new AppProcess(nodeBin, ['start', '--data-dir', path.join(dir, 'b'), '--name', 'b', '--bootstrap', a.listen[0]!, '--relay', relay.listen[0]!, ...common])
    procs.push(pb)
    b = await pb.ready()
  })

  afterAll(async () => {
    for (const c of channels) c.close()
    await Promise.all(procs.map(async (p) => p.stop().catch(() => undefined)))
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  function nodeClient(ready: ReadyLine) {
    const channel = createChannel(ready.grpc!)
    channels.push(channel)
    return createClient(nodeApi.NodeServiceDefinition, channel)
  }

  it('prints a ready line with peer id, listen addresses, gRPC and metrics endpoints', () => {
    for (const [r, app] of [
      [relay, 'cpc-relay'],
      [a, 'cpc-node'],
      [b, 'cpc-node'],
    ] as const) {
      expect(r).toMatchObject({ event: 'ready', app })
      expect(r.listen[0]).toContain(`/p2p/${r.peerId}`)
      expect(r.grpc).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(r.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    }
    expect(relay.role).toBe('relay')
  })

  it('latency, loss and throughput series exist and move under traffic; the relay counts the reservation', async () => {
    const clientB = nodeClient(b)
    const clientA = nodeClient(a)
    // A's event stream sees B's messages as typed events.
    const controller = new AbortController()
    const received: bigint[] = []
    const subscription = (async () => {
      try {
        for await (const res of clientA.subscribe({ kinds: ['message'] }, { signal: controller.signal })) {
          if (res.event?.event?.$case === 'message') received.push(res.event.event.value.nonce)
        }
      } catch {
        // Aborted at the end of the test.
      }
    })()

    await eventually(async () => ((await clientB.getStatus({})).connectedPeers >= 1 ? true : undefined), 20_000, 'B connected')
    const first = await scrape(b.metrics!)
    const rtt0 = sample(first, 'cpc_link_rtt_seconds_count') ?? 0
    const sent0 = sample(first, 'cpc_router_bytes_sent_total') ?? 0
    const chan0 = sample(first, 'cpc_channel_bytes_total', { direction: 'out' }) ?? 0
    const queue0 = sample(first, 'cpc_router_queue_latency_seconds_count') ?? 0
    const probesSent0 = sample(first, 'cpc_link_probes_total', { result: 'sent' }) ?? 0
    const probesIn0 = sample(first, 'cpc_link_probes_total', { result: 'received' }) ?? 0
    const lat0 = sample(await scrape(a.metrics!), 'cpc_router_delivery_latency_seconds_count') ?? 0

    // Bounded traffic: batches of sends until the ping RTT histogram has new samples (pings every ~1 s).
    let sent = 0
    const second = await eventually(
      async () => {
        for (let i = 0; i < 10; i++) {
          await clientB.sendMessage({ peerId: a.peerId, payload: new Uint8Array(512).fill(i), priority: Priority.MEDIUM, ttlMs: 0, kind: '', contentId: '' })
          sent++
        }
        const text = await scrape(b.metrics!)
        const probed = (sample(text, 'cpc_link_probes_total', { result: 'received' }) ?? 0) > probesIn0
        return (sample(text, 'cpc_link_rtt_seconds_count') ?? 0) > rtt0 && probed && received.length > 0 ? text : undefined
      },
      20_000,
      'RTT samples and deliveries',
      200,
    )

    // Latency: the ping/pong RTT histogram and the sender's queue latency gained samples (the
    // receiver's delivery latency is checked below).
    expect(sample(second, 'cpc_link_rtt_seconds_count')!).toBeGreaterThan(rtt0)
    expect(sample(second, 'cpc_router_queue_latency_seconds_count')!).toBeGreaterThan(queue0)
    // Loss: the measurement behind the ratio moves (UDP probes sent and received between scrapes);
    // the ratio itself is 0 on loopback (real drops are the lab's loss scenario).
    expect(sample(second, 'cpc_link_probes_total', { result: 'sent' })!).toBeGreaterThan(probesSent0)
    expect(sample(second, 'cpc_link_probes_total', { result: 'received' })!).toBeGreaterThan(probesIn0)
    expect(sample(second, 'cpc_link_loss_ratio', { stat: 'max' })).toBeDefined()
    expect(sample(second, 'cpc_link_loss_ratio', { stat: 'max' })!).toBeGreaterThanOrEqual(0)
    expect(sample(second, 'cpc_link_pings_total', { result: 'sent' })!).toBeGreaterThan(0)
    // Throughput: router and channel byte counters grew by at least the payloads sent.
    expect(sample(second, 'cpc_router_bytes_sent_total')! - sent0).toBeGreaterThanOrEqual(512 * Math.min(sent, 1))
    expect(sample(second, 'cpc_channel_bytes_total', { direction: 'out' })!).toBeGreaterThan(chan0)
    expect(sample(second, 'libp2p_data_transfer_bytes_total')!).toBeGreaterThan(0)
    // Every series carries the node label from the config.
    expect(second).toContain('node="b"')

    // The receiver counted the messages in.
    const atA = await scrape(a.metrics!)
    expect(sample(atA, 'cpc_router_messages_received_total')!).toBeGreaterThan(0)
    expect(sample(atA, 'cpc_router_delivery_latency_seconds_count')!).toBeGreaterThan(lat0)
    expect(sample(atA, 'cpc_router_bytes_received_total')!).toBeGreaterThan(0)
    expect(received.length).toBeGreaterThan(0)

    // Relay: B's reservation shows on the relay's gauge, and in B's own status.
    const relayText = await eventually(async () => {
      const text = await scrape(relay.metrics!)
      return sample(text, 'cpc_relay_reservations') === 1 ? text : undefined
    }, 20_000, 'cpc_relay_reservations 1')
    expect(sample(relayText, 'cpc_relay_reservations_max')).toBe(128)
    expect(sample(relayText, 'cpc_relay_relayed_bytes_total')).toBeDefined()
    expect((await clientB.getStatus({})).relayReservations).toBeGreaterThanOrEqual(1)

    controller.abort()
    await subscription
  })

  it('serves /healthz and /readyz on every process', async () => {
    for (const r of [relay, a, b]) {
      const base = r.metrics!.replace(/\/metrics$/, '')
      expect((await fetch(`${base}/healthz`)).status).toBe(200)
      expect((await fetch(`${base}/readyz`)).status).toBe(200)
    }
  })

  it('stops on SIGTERM with exit code 0 and a stopped line', async () => {
    for (const p of [...procs].reverse()) {
      expect(await p.stop()).toEqual({ code: 0, signal: null })
      expect(JSON.parse(p.lines.at(-1)!)).toMatchObject({ event: 'stopped', code: 0 })
    }
  })
})
