import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { Priority } from '@cpc/protocol'
import { PeerQueues } from '../src/outbound/peer-queues.js'
import { createRouterMetrics } from '../src/metrics.js'
import { EmptyMessageError, InvalidPriorityError, QueueFullError } from '../src/errors.js'
import type { ShedReason } from '../src/shedding/shed-policy.js'
import { frame, idOf } from './helpers/frames.js'

const { HIGH, MEDIUM, LOW } = Priority

function drainAll<M>(q: PeerQueues<M>): number[] {
  const ids: number[] = []
  for (let b = q.nextBatch(1 << 20, 1000); b.length > 0; b = q.nextBatch(1 << 20, 1000)) ids.push(...b.map((f) => idOf(f.frame)))
  return ids
}

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get()
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return value?.value ?? 0
}

describe('PeerQueues drain order', () => {
  it('serves HIGH first, then MEDIUM and LOW', () => {
    const q = new PeerQueues()
    q.enqueue(frame(1), LOW, undefined)
    q.enqueue(frame(2), MEDIUM, undefined)
    q.enqueue(frame(3), HIGH, undefined)
    expect(drainAll(q)).toEqual([3, 2, 1])
  })

  it('lets a HIGH frame overtake a chunked LOW message between its chunks', () => {
    const q = new PeerQueues()
    q.enqueue([frame(10), frame(11), frame(12), frame(13)], LOW, undefined)
    const first = q.nextBatch(1 << 20, 1)
    expect(first.map((f) => [idOf(f.frame), f.index, f.count, f.last])).toEqual([[10, 0, 4, false]])
    q.enqueue(frame(99), HIGH, undefined)
    expect(drainAll(q)).toEqual([99, 11, 12, 13])
  })

  it('batches up to maxFrames and maxBytes, but always hands out at least one frame', () => {
    const q = new PeerQueues()
    for (let i = 0; i < 10; i++) q.enqueue(frame(i, 100), MEDIUM, undefined)
    expect(q.nextBatch(10_000, 3)).toHaveLength(3)
    expect(q.nextBatch(250, 100)).toHaveLength(2)
    expect(q.nextBatch(50, 100)).toHaveLength(1)
    expect(q.frames()).toBe(4)
    expect(q.bytes()).toBe(400)
  })

  it('gives MEDIUM and LOW their 4:1 byte shares while both are backlogged', () => {
    const q = new PeerQueues({}, { quantumBytes: 100 })
    for (let i = 0; i < 500; i++) {
      q.enqueue(frame(i, 100), MEDIUM, undefined)
      q.enqueue(frame(10_000 + i, 100), LOW, undefined)
    }
    const first100 = q.nextBatch(1 << 20, 100).map((f) => f.priority)
    expect(first100.filter((p) => p === LOW)).toHaveLength(20)
    expect(first100.filter((p) => p === MEDIUM)).toHaveLength(80)
  })

  it('returns the backlog with takeAll(), a started message with its unwritten frames only', () => {
    const q = new PeerQueues<string>()
    q.enqueue([frame(1), frame(2), frame(3)], LOW, 'a')
    q.enqueue(frame(4), HIGH, 'b')
    q.nextBatch(1 << 20, 2) // HIGH 4, then LOW chunk 1
    const rest = q.takeAll()
    expect(rest.map((m) => [m.meta, m.frames.map(idOf)])).toEqual([['a', [2, 3]]])
    expect(q.isEmpty).toBe(true)
    expect(q.bytes()).toBe(0)
  })

  it('refuses unknown priorities and empty messages with named errors', () => {
    const q = new PeerQueues()
    expect(() => q.enqueue(frame(1), Priority.UNRECOGNIZED, undefined)).toThrow(InvalidPriorityError)
    expect(() => q.enqueue([], LOW, undefined)).toThrow(EmptyMessageError)
  })
})

describe('PeerQueues shedding', () => {
  it('sheds a LOW flood past the bound and counts it, while HIGH is still accepted', async () => {
    const registry = new Registry()
    const metrics = createRouterMetrics(registry)
    const q = new PeerQueues({ metrics }, { maxFrames: 100, maxBytes: 1 << 20 })
    const shedEvents: string[] = []
    q.addEventListener('shed', (e) => shedEvents.push(`${e.detail.message.priority}:${e.detail.reason}`))

    let accepted = 0
    for (let i = 0; i < 1000; i++) if (q.enqueue(frame(i), LOW, undefined).accepted) accepted++
    expect(accepted).toBe(100)
    expect(q.shedCount('queue_full')).toBe(900)
    expect(shedEvents).toHaveLength(900)
    expect(await metricValue(registry, 'cpc_router_dropped_total', { reason: 'queue_full', priority: 'low' })).toBe(900)

    // HIGH makes room by shedding the newest LOW messages.
    for (let i = 0; i < 10; i++) expect(q.enqueue(frame(5000 + i), HIGH, undefined)).toEqual({ accepted: true, evicted: 1 })
    expect(q.frames(HIGH)).toBe(10)
    expect(q.frames(LOW)).toBe(90)
    expect(q.shedCount('queue_full')).toBe(910)
    expect(await metricValue(registry, 'cpc_router_dropped_total', { reason: 'queue_full', priority: 'high' })).toBe(0)
    expect(await metricValue(registry, 'cpc_router_queue_depth', { priority: 'high' })).toBe(10)

    // The oldest LOW survived (tail drop), HIGH goes first.
    const order = drainAll(q)
    expect(order.slice(0, 10)).toEqual([5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009])
    expect(order.slice(10)).toEqual([...Array(90).keys()])
    expect(await metricValue(registry, 'cpc_router_queue_depth', { priority: 'low' })).toBe(0)
  })

  it('sheds LOW before MEDIUM for a HIGH message, and a MEDIUM message never sheds MEDIUM', () => {
    const q = new PeerQueues({}, { maxFrames: 4 })
    q.enqueue(frame(1), MEDIUM, undefined)
    q.enqueue(frame(2), MEDIUM, undefined)
    q.enqueue(frame(3), LOW, undefined)
    q.enqueue(frame(4), LOW, undefined)
    expect(q.enqueue(frame(5), MEDIUM, undefined)).toEqual({ accepted: true, evicted: 1 })
    expect(q.enqueue(frame(6), MEDIUM, undefined)).toEqual({ accepted: true, evicted: 1 })
    expect(q.enqueue(frame(7), MEDIUM, undefined)).toEqual({ accepted: false, reason: 'queue_full', evicted: 0 })
    expect(q.enqueue(frame(8), HIGH, undefined)).toEqual({ accepted: true, evicted: 1 })
    expect(drainAll(q)).toEqual([8, 1, 2, 5])
  })

  it('refuses a HIGH message that cannot fit with QueueFullError instead of dropping it', () => {
    const q = new PeerQueues({}, { maxFrames: 3, maxBytes: 1000 })
    q.enqueue([frame(1), frame(2)], HIGH, undefined)
    expect(() => q.enqueue([frame(3), frame(4)], HIGH, undefined)).toThrow(QueueFullError)
    const err = catchError(() => q.enqueue(frame(5, 2000), HIGH, undefined))
    expect(err).toBeInstanceOf(QueueFullError)
    expect((err as QueueFullError).code).toBe('ERR_QUEUE_FULL')
    expect((err as QueueFullError).limit).toBe('bytes')
    expect(q.frames()).toBe(2)
    expect(q.shedCount()).toBe(0)
  })

  it('never sheds a message that has started to go out', () => {
    const q = new PeerQueues({}, { maxFrames: 4 })
    q.enqueue([frame(1), frame(2), frame(3), frame(4)], LOW, undefined)
    q.nextBatch(1 << 20, 1)
    expect(() => q.enqueue([frame(5), frame(6)], HIGH, undefined)).toThrow(QueueFullError)
    expect(q.enqueue(frame(7), HIGH, undefined).accepted).toBe(true)
    expect(drainAll(q)).toEqual([7, 2, 3, 4])
  })

  it('asks the shed policy for LOW and MEDIUM but never for HIGH', () => {
    const asked: Priority[] = []
    const q = new PeerQueues({
      shedPolicy: {
        shouldShed: (p): ShedReason | false => {
          asked.push(p)
          return p === LOW ? 'event_loop_delay' : false
        },
      },
    })
    expect(q.enqueue(frame(1), LOW, undefined)).toEqual({ accepted: false, reason: 'event_loop_delay', evicted: 0 })
    expect(q.enqueue(frame(2), MEDIUM, undefined).accepted).toBe(true)
    expect(q.enqueue(frame(3), HIGH, undefined).accepted).toBe(true)
    expect(asked).toEqual([LOW, MEDIUM])
    expect(q.shedCount('event_loop_delay')).toBe(1)
  })
})

// --- property tests ---

type Cmd =
  | { kind: 'enqueue'; priority: Priority; chunks: number; size: number }
  | { kind: 'drain'; maxBytes: number; maxFrames: number }

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('enqueue' as const),
      priority: fc.constantFrom(HIGH, MEDIUM, LOW),
      chunks: fc.integer({ min: 1, max: 4 }),
      size: fc.integer({ min: 4, max: 300 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('drain' as const),
      maxBytes: fc.integer({ min: 1, max: 2000 }),
      maxFrames: fc.integer({ min: 1, max: 20 }),
    }),
  },
)

describe('PeerQueues properties', () => {
  it('HIGH always first, FIFO per priority, nothing lost or duplicated unless shed, every shed counted', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 300 }), fc.integer({ min: 5, max: 60 }), (cmds, maxFrames) => {
        const q = new PeerQueues<number>({}, { maxFrames, maxBytes: 4000, quantumBytes: 256 })
        const shed = new Set<number>()
        q.addEventListener('shed', (e) => {
          expect(shed.has(e.detail.message.meta)).toBe(false)
          shed.add(e.detail.message.meta)
        })
        const framesOf = new Map<number, number[]>()
        const priorityOf = new Map<number, Priority>()
        const refused = new Set<number>()
        const drained: number[] = []
        const lastMessageDrained = new Map<Priority, number>()
        let nextMsg = 0

        const check = (batch: ReturnType<typeof q.nextBatch>): void => {
          let sawShared = false
          for (const f of batch) {
            if (f.priority === HIGH) expect(sawShared).toBe(false)
            else sawShared = true
            const id = idOf(f.frame)
            const msg = Math.floor(id / 8)
            expect(msg).toBe(f.meta)
            // FIFO within a priority: message ids never go backwards.
            expect(msg).toBeGreaterThanOrEqual(lastMessageDrained.get(f.priority) ?? -1)
            lastMessageDrained.set(f.priority, msg)
            drained.push(id)
          }
          if (sawShared) expect(q.frames(HIGH)).toBe(0)
        }

        for (const cmd of cmds) {
          if (cmd.kind === 'enqueue') {
            const msg = nextMsg++
            const ids = Array.from({ length: cmd.chunks }, (_, i) => msg * 8 + i)
            framesOf.set(msg, ids)
            priorityOf.set(msg, cmd.priority)
            try {
              q.enqueue(
                ids.map((id) => frame(id, cmd.size)),
                cmd.priority,
                msg,
              )
            } catch (err) {
              expect(err).toBeInstanceOf(QueueFullError)
              expect(cmd.priority).toBe(HIGH)
              refused.add(msg)
            }
          } else {
            const batch = q.nextBatch(cmd.maxBytes, cmd.maxFrames)
            expect(batch.length).toBeLessThanOrEqual(cmd.maxFrames)
            if (batch.length > 1) expect(batch.reduce((n, f) => n + f.frame.byteLength, 0)).toBeLessThanOrEqual(cmd.maxBytes)
            check(batch)
          }
          expect(q.frames()).toBeLessThanOrEqual(maxFrames)
          expect(q.bytes()).toBeLessThanOrEqual(4000)
        }
        for (let b = q.nextBatch(1 << 20, 7); b.length > 0; b = q.nextBatch(1 << 20, 7)) check(b)

        // Exactly once: every frame of every accepted, unshed message; none of shed or refused ones.
        const expected: number[] = []
        for (const [msg, ids] of framesOf) if (!shed.has(msg) && !refused.has(msg)) expected.push(...ids)
        expect([...drained].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b))
        for (const msg of shed) expect(priorityOf.get(msg)).not.toBe(HIGH)
        expect(q.shedCount()).toBe(shed.size)
        expect(q.frames()).toBe(0)
        expect(q.bytes()).toBe(0)
      }),
      { numRuns: 300 },
    )
  })

  it('LOW gets at least its weighted share of MEDIUM+LOW bytes over a long backlogged run', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 50, maxLength: 50 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 16 }), fc.boolean()), { minLength: 200, maxLength: 400 }),
        (mediumWeight, lowWeight, sizes, drains) => {
          const quantumBytes = 512
          const q = new PeerQueues({}, { mediumWeight, lowWeight, quantumBytes, maxFrames: 100_000, maxBytes: 1 << 30 })
          let n = 0
          const refill = (): void => {
            while (q.frames(MEDIUM) < 20) q.enqueue(frame(n, sizes[n++ % sizes.length] + 4), MEDIUM, undefined)
            while (q.frames(LOW) < 20) q.enqueue(frame(n, sizes[n++ % sizes.length] + 4), LOW, undefined)
          }
          const sent = { [MEDIUM]: 0, [LOW]: 0 } as Record<number, number>
          for (const [maxBytes, maxFrames, withHigh] of drains) {
            refill()
            if (withHigh) q.enqueue(frame(n++, 64), HIGH, undefined)
            for (const f of q.nextBatch(maxBytes, maxFrames)) if (f.priority !== HIGH) sent[f.priority] += f.frame.byteLength
          }
          const total = sent[MEDIUM] + sent[LOW]
          // DRR: each side is within about one round of credit (weight × quantum + a frame) of its share.
          const slack = (mediumWeight + lowWeight) * quantumBytes + 2 * 516
          expect(sent[LOW]).toBeGreaterThanOrEqual((total * lowWeight) / (mediumWeight + lowWeight) - slack)
          expect(sent[MEDIUM]).toBeGreaterThanOrEqual((total * mediumWeight) / (mediumWeight + lowWeight) - slack)
        },
      ),
      { numRuns: 100 },
    )
  })
})
