import { describe, it, expect, beforeEach, afterEach } from '@jest/globals'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { MessageType, Priority } from '@cpc/protocol'
import { Outbox } from '../src/outbox/outbox.js'
import { decodeValue, encodeValue } from '../src/outbox/entry-codec.js'
import { createRouterMetrics, type RouterMetrics } from '../src/metrics.js'
import { InvalidPeerError, OutboxClosedError, OutboxFullError } from '../src/errors.js'
import { FakeClock } from './helpers/fake-clock.js'
import { frame, idOf } from './helpers/frames.js'

const { HIGH, MEDIUM, LOW } = Priority
const PEER_A = '12D3KooWA'
const PEER_B = '12D3KooWB'

let dir: string
let outboxes: Outbox[]

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpc-outbox-'))
  outboxes = []
})

afterEach(async () => {
  for (const o of outboxes) await o.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

function make(clock: FakeClock, init: Partial<ConstructorParameters<typeof Outbox>[1]> = {}, metrics?: RouterMetrics): Outbox {
  const outbox = new Outbox({ clock, metrics }, { location: dir, ...init })
  outboxes.push(outbox)
  return outbox
}

describe('Outbox', () => {
  it('returns a peer’s entries HIGH first, FIFO within a priority, and keeps them across a restart', async () => {
    const clock = new FakeClock()
    const first = make(clock)
    await first.open()
    const order: Array<[number, Priority]> = [
      [1, LOW],
      [2, HIGH],
      [3, MEDIUM],
      [4, LOW],
      [5, HIGH],
      [6, MEDIUM],
    ]
    for (const [id, priority] of order) {
      await first.put(PEER_A, { frames: [frame(id), frame(id + 100)], priority, expiresAtMs: 0, nonce: BigInt(id) })
    }
    await first.put(PEER_B, { frames: [frame(9)], priority: LOW, expiresAtMs: 0, nonce: 9n, type: MessageType.DISCOVERY })
    const listed = await first.listFor(PEER_A)
    expect(listed.map((e) => idOf(e.frames[0]))).toEqual([2, 5, 3, 6, 1, 4])
    await first.close()

    const second = make(clock)
    await second.open()
    expect(second.size()).toBe(7)
    expect(second.size(PEER_A)).toBe(6)
    expect(second.bytes(PEER_A)).toBe(6 * 32)
    expect(second.peers().sort()).toEqual([PEER_A, PEER_B])
    const again = await second.listFor(PEER_A)
    expect(again.map((e) => [idOf(e.frames[0]), idOf(e.frames[1]), e.nonce])).toEqual([
      [2, 102, 2n],
      [5, 105, 5n],
      [3, 103, 3n],
      [6, 106, 6n],
      [1, 101, 1n],
      [4, 104, 4n],
    ])
    const [b] = await second.listFor(PEER_B)
    expect([b.type, b.priority, b.createdAtMs]).toEqual([MessageType.DISCOVERY, LOW, clock.now()])

    // New entries after a restart still sort after the old ones.
    await second.put(PEER_A, { frames: [frame(7)], priority: HIGH, expiresAtMs: 0, nonce: 7n })
    expect((await second.listFor(PEER_A, { limit: 3 })).map((e) => idOf(e.frames[0]))).toEqual([2, 5, 7])
  })

  it('removes delivered entries, and takeFor() hands entries over exactly once', async () => {
    const outbox = make(new FakeClock())
    await outbox.open()
    const a = await outbox.put(PEER_A, { frames: [frame(1)], priority: LOW, expiresAtMs: 0, nonce: 1n })
    await outbox.put(PEER_A, { frames: [frame(2)], priority: LOW, expiresAtMs: 0, nonce: 2n })
    await outbox.put(PEER_A, { frames: [frame(3)], priority: LOW, expiresAtMs: 0, nonce: 3n })
    expect(await outbox.remove(a.id)).toBe(true)
    expect(await outbox.remove(a.id)).toBe(false)
    const [x, y] = await Promise.all([outbox.takeFor(PEER_A), outbox.takeFor(PEER_A)])
    expect([...x, ...y].map((e) => idOf(e.frames[0])).sort()).toEqual([2, 3])
    expect(outbox.size()).toBe(0)
    expect(outbox.peers()).toEqual([])
    await outbox.close()
    await outbox.open()
    expect(outbox.size()).toBe(0)
  })

  it('expires entries past their expiry, across a restart, and reports them once', async () => {
    const registry = new Registry()
    const metrics = createRouterMetrics(registry)
    const clock = new FakeClock()
    const now = clock.now()
    const first = make(clock, {}, metrics)
    await first.open()
    await first.put(PEER_A, { frames: [frame(1)], priority: LOW, expiresAtMs: now + 1000, nonce: 1n })
    await first.put(PEER_A, { frames: [frame(2)], priority: HIGH, expiresAtMs: now + 5000, nonce: 2n })
    await first.put(PEER_B, { frames: [frame(3)], priority: MEDIUM, expiresAtMs: 0, nonce: 3n })
    await first.put(PEER_B, { frames: [frame(4)], priority: MEDIUM, expiresAtMs: now + 500, nonce: 4n })
    expect(await first.expire(now + 499)).toEqual([])
    await first.close()

    const second = make(clock, {}, metrics)
    await second.open()
    clock.advance(1000)
    // listFor hides what is due, expire() returns it.
    expect((await second.listFor(PEER_A)).map((e) => e.nonce)).toEqual([2n])
    const expired = await second.expire()
    expect(expired.map((e) => [e.peer, e.nonce, e.priority]).sort()).toEqual([
      [PEER_A, 1n, LOW],
      [PEER_B, 4n, MEDIUM],
    ])
    expect(await second.expire()).toEqual([])
    expect(second.size()).toBe(2)
    clock.advance(1_000_000)
    expect((await second.expire()).map((e) => e.nonce)).toEqual([2n])
    expect(second.size()).toBe(1) // expiresAtMs 0 never expires
    const metric = await registry.getSingleMetric('cpc_router_outbox_expired_total')?.get()
    expect(metric?.values.reduce((n, v) => n + v.value, 0)).toBe(3)
    const depth = await registry.getSingleMetric('cpc_router_outbox_entries')?.get()
    expect(depth?.values[0].value).toBe(1)
  })

  it('refuses puts past its per-peer and total bounds with OutboxFullError', async () => {
    const registry = new Registry()
    const outbox = make(new FakeClock(), { maxEntriesPerPeer: 2, maxBytesPerPeer: 100, maxEntries: 3, maxBytes: 1000 }, createRouterMetrics(registry))
    await outbox.open()
    const put = (peer: string, size: number) => outbox.put(peer, { frames: [frame(1, size)], priority: HIGH, expiresAtMs: 0, nonce: 1n })
    await put(PEER_A, 10)
    await expect(put(PEER_A, 200)).rejects.toMatchObject({ code: 'ERR_OUTBOX_FULL', scope: 'peer', limit: 'bytes' })
    await put(PEER_A, 10)
    await expect(put(PEER_A, 10)).rejects.toMatchObject({ scope: 'peer', limit: 'entries' })
    await put(PEER_B, 10)
    await expect(put('12D3KooWC', 10)).rejects.toBeInstanceOf(OutboxFullError)
    await expect(put('12D3KooWC', 10)).rejects.toMatchObject({ scope: 'total', limit: 'entries' })
    expect(outbox.size()).toBe(3)
    const rejected = await registry.getSingleMetric('cpc_router_outbox_rejected_total')?.get()
    expect(rejected?.values.map((v) => [v.labels.scope, v.value]).sort()).toEqual([
      ['peer', 2],
      ['total', 2],
    ])
  })

  it('refuses use when closed and peer keys it cannot store', async () => {
    const outbox = make(new FakeClock())
    await expect(outbox.put(PEER_A, { frames: [frame(1)], priority: LOW, expiresAtMs: 0, nonce: 1n })).rejects.toBeInstanceOf(OutboxClosedError)
    await outbox.open()
    await expect(outbox.put('bad\u0000peer', { frames: [frame(1)], priority: LOW, expiresAtMs: 0, nonce: 1n })).rejects.toBeInstanceOf(InvalidPeerError)
  })

  it('property: the value codec round-trips', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(HIGH, MEDIUM, LOW),
        fc.constantFrom(MessageType.EVENT, MessageType.DISCOVERY, MessageType.CONTROL),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (frames, priority, type, expiresAtMs, nonce) => {
          const v = { frames, priority, type, expiresAtMs, nonce, createdAtMs: 42 }
          const back = decodeValue(encodeValue(v))
          expect(back).toEqual({ ...v, frames: frames.map((f) => Uint8Array.from(f)) })
        },
      ),
    )
  })
})
